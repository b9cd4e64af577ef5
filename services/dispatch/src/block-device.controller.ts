// The BlockDevice gRPC API: unary Submit and the tagged SubmitStream. Thin: the block
// layer lives in libs/dispatch.
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall, RpcException } from '@nestjs/microservices';
import type * as grpc from '@grpc/grpc-js';
import { grpcStatusOf } from '#service-kit';
import { BlockLayer, type StreamSubmission, SubmitStream } from '#dispatch';
import type { Completion, Submission } from '#proto/nest/blk/v1/block_device';

/**
 * Implements `BlockDeviceController` of the generated code, except that `submitStream`
 * takes the raw call (`@GrpcStreamCall`) instead of an Observable: RxJS has no
 * backpressure, and the stream must stop reading while its in-flight limit is reached.
 */
@Controller()
export class BlockDeviceController {
  constructor(private readonly layer: BlockLayer) {}

  @GrpcMethod('BlockDevice', 'Submit')
  async submit(req: Submission): Promise<Completion> {
    let r;
    try {
      r = await this.layer.submit(req);
    } catch (err) {
      throw new RpcException(grpcStatusOf(err));
    }
    return {
      tag: req.tag,
      status: r.status as number as Completion['status'],
      data: r.data ?? Buffer.alloc(0),
      message: r.message,
      latencyNsec: String(r.latencyNs),
    };
  }

  @GrpcStreamCall('BlockDevice', 'SubmitStream')
  submitStream(call: grpc.ServerDuplexStream<{ submissions: StreamSubmission[] }, never>): Promise<void> {
    return new SubmitStream(call as never, this.layer).done;
  }
}
