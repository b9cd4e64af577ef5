// The BlockDevice gRPC API: unary Submit and the tagged SubmitStream. Thin: the block
// layer lives in libs/dispatch.
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall, RpcException } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import { grpcStatusOf, wireInteger } from '#service-kit';
import { NO_WRITE_POINTER } from '#blk-mq';
import { BlockLayer, ClientBudgets, clientKeyOf, type StreamSubmission, SubmitStream } from '#dispatch';
import type { Completion, ReportZonesRequest, ReportZonesResponse, Submission } from '#proto/nest/blk/v1/block_device';

/** The wire's write pointer of a READ_ONLY / OFFLINE zone: NULL_ZONE_INVALID_WP, 2^64 - 1. */
const WIRE_NO_WRITE_POINTER = (2n ** 64n - 1n).toString();

/**
 * Implements `BlockDeviceController` of the generated code, except that `submitStream`
 * takes the raw call (`@GrpcStreamCall`) instead of an Observable: RxJS has no
 * backpressure, and the stream must stop reading while its in-flight limit is reached.
 * Both count against the client's GRPC_MAX_INFLIGHT_PER_CLIENT (client-budget.ts): a
 * stream waits for room, a unary Submit without room is refused RESOURCE_EXHAUSTED.
 */
@Controller()
export class BlockDeviceController {
  constructor(
    private readonly layer: BlockLayer,
    private readonly budgets: ClientBudgets,
  ) {}

  @GrpcMethod('BlockDevice', 'Submit')
  async submit(req: Submission, metadata: grpc.Metadata, call: grpc.ServerUnaryCall<unknown, unknown>): Promise<Completion> {
    const budget = this.budgets.of(clientKeyOf(metadata, call.getPeer()));
    let r;
    try {
      if (!budget.tryTake()) {
        throw new RpcException({
          code: grpc.status.RESOURCE_EXHAUSTED,
          message: `this client has GRPC_MAX_INFLIGHT_PER_CLIENT=${this.budgets.limit} submissions in flight; retry when one ends, or use SubmitStream, which waits`,
        });
      }
      try {
        r = await this.layer.submit(req);
      } catch (err) {
        throw new RpcException(grpcStatusOf(err));
      } finally {
        budget.give();
      }
    } finally {
      budget.release();
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
    const budget = this.budgets.of(clientKeyOf(call.metadata, call.getPeer()));
    return new SubmitStream(call as never, this.layer, budget).done;
  }
}
