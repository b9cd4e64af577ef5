// GenDisk on dispatch's address: forwarded to the gendisk service, with the caller's
// `authorization` (gendisk checks the caller's token again; README "Security").
import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { grpcStatusOf } from '#service-kit';
import { GenDiskForwarder } from '#gendisk';
import {
  type ConfigureDiskRequest,
  type CreateDiskRequest,
  type DeleteDiskRequest,
  type DeleteDiskResponse,
  type Disk,
  type FeaturesResponse,
  type GenDiskController as GenDiskApi,
  GenDiskControllerMethods,
  type GetDiskRequest,
  type ListDisksResponse,
  type PowerDiskRequest,
  type SetZoneConditionRequest,
  type SetZoneConditionResponse,
} from '#proto/nest/blk/v1/gen_disk';

@Controller()
@GenDiskControllerMethods()
export class GenDiskForwardController implements GenDiskApi {
  constructor(private readonly gendisk: GenDiskForwarder) {}

  private async forward<T>(method: string, req: unknown, metadata = new Metadata()): Promise<T> {
    try {
      return await this.gendisk.forward<T>(method, req, metadata);
    } catch (err) {
      throw new RpcException(grpcStatusOf(err));
    }
  }

  createDisk(req: CreateDiskRequest, metadata?: Metadata): Promise<Disk> {
    return this.forward('createDisk', req, metadata);
  }
  getDisk(req: GetDiskRequest, metadata?: Metadata): Promise<Disk> {
    return this.forward('getDisk', req, metadata);
  }
  listDisks(_req?: unknown, metadata?: Metadata): Promise<ListDisksResponse> {
    return this.forward('listDisks', {}, metadata);
  }
  configureDisk(req: ConfigureDiskRequest, metadata?: Metadata): Promise<Disk> {
    return this.forward('configureDisk', req, metadata);
  }
  powerDisk(req: PowerDiskRequest, metadata?: Metadata): Promise<Disk> {
    return this.forward('powerDisk', req, metadata);
  }
  deleteDisk(req: DeleteDiskRequest, metadata?: Metadata): Promise<DeleteDiskResponse> {
    return this.forward('deleteDisk', req, metadata);
  }
  features(_req?: unknown, metadata?: Metadata): Promise<FeaturesResponse> {
    return this.forward('features', {}, metadata);
  }
  setZoneCondition(req: SetZoneConditionRequest, metadata?: Metadata): Promise<SetZoneConditionResponse> {
    return this.forward('setZoneCondition', req, metadata);
  }
}
