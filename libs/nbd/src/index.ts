// The Network Block Device protocol, server side: a fixed newstyle handshake and a
// transmission phase over any block device that implements `NbdBackend`.
export * from './nbd-protocol';
export * from './nbd-export';
export * from './nbd-backend';
export * from './nbd-errno';
export * from './socket-reader';
export * from './nbd-tls';
export * from './nbd-access';
export * from './option-haggling';
export * from './reply-writer';
export * from './transmission';
export * from './nbd-server';
