// The service kit: the plumbing every process of the cluster shares. Environment, Redis
// connections, health and metrics, logging, errors and their gRPC statuses, bootstrap;
// the clocks (batch clock, PreciseTimer) and per-key serialization; the owner lease,
// whose default is part of the environment.
export * from './service-env';
export * from './redis-connection';
export * from './redis-credentials';
export * from './grpc-limits';
export * from './cluster-errors';
export * from './grpc-status';
export * from './wire-integer';
export * from './health';
export * from './block-metrics';
export * from './counter-tally';
export * from './service-logger';
export * from './logger-module';
export * from './bootstrap';
export * from './batch-clock';
export * from './keyed-serial';
export * from './precise-timer';
