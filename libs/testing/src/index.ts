export * from './exchange-generator';
export * from './otlp-receiver';
export * from './service-process';
export * from './slapd';
export * from './stack';
export * from './usn-directory';
export * from './wait';
