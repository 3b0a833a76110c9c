export * from './file-span-exporter';
export * from './start-telemetry';
