// The BlockDevice gRPC API: unary Submit and the tagged SubmitStream. Thin: the block
// layer lives in libs/dispatch.
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall, RpcException } from '@nestjs/microservices';
import type * as grpc from '@grpc/grpc-js';
import { grpcStatusOf, wireInteger } from '#service-kit';
import { NO_WRITE_POINTER } from '#blk-mq';
import { BlockLayer, type StreamSubmission, SubmitStream } from '#dispatch';
import type { Completion, ReportZonesRequest, ReportZonesResponse, Submission } from '#proto/nest/blk/v1/block_device';

/** The wire's write pointer of a READ_ONLY / OFFLINE zone: NULL_ZONE_INVALID_WP, 2^64 - 1. */
const WIRE_NO_WRITE_POINTER = (2n ** 64n - 1n).toString();

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
      sector: String(r.sector ?? 0),
    };
  }

  @GrpcMethod('BlockDevice', 'ReportZones')
  async reportZones(req: ReportZonesRequest): Promise<ReportZonesResponse> {
    try {
      const zones = await this.layer.reportZones(req.disk, wireInteger('sector', req.sector), req.count);
      return {
        zones: zones.map((z) => ({
          start: String(z.start),
          len: String(z.len),
          capacity: String(z.capacity),
          wp: z.wp === NO_WRITE_POINTER ? WIRE_NO_WRITE_POINTER : String(z.wp),
          type: z.type as number,
          cond: z.cond as number,
        })),
      };
    } catch (err) {
      throw new RpcException(grpcStatusOf(err));
    }
  }

  @GrpcStreamCall('BlockDevice', 'SubmitStream')
  submitStream(call: grpc.ServerDuplexStream<{ submissions: StreamSubmission[] }, never>): Promise<void> {
    return new SubmitStream(call as never, this.layer).done;
  }
}
