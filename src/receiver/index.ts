export type { Receiver, ReceiverOptions } from './types.js';
export type { TlsFiles } from './tls.js';
export { startHttpReceiver } from './http.js';
export { startGrpcReceiver } from './grpc.js';
