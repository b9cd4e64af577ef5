// gRPC security of the cluster: TLS from a certificate directory in nbdkit's layout, bearer
// tokens and their roles, the one table of which RPC needs which role, and the client and
// server sides that apply them. No Nest, no Redis: rnullctl loads it too.
export * from './role';
export * from './token-table';
export * from './bearer-token';
export * from './rpc-roles';
export * from './authorization-interceptor';
export * from './tls-directory';
export * from './client-security';
export * from './grpc-security-env';
