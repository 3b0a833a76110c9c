export * from './service-process';
export * from './stack';
export * from './wait';
export * from './otlp-receiver';
