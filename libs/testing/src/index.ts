export * from './service-process';
export * from './stack';
export * from './wait';
export * from './slapd';
export * from './usn-directory';
export * from './exchange-generator';
