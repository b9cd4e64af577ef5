// GenDisk on dispatch's address: forwarded to the gendisk service.
import { Controller } from '@nestjs/common';
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
} from '#proto/nest/blk/v1/gen_disk';

@Controller()
@GenDiskControllerMethods()
export class GenDiskForwardController implements GenDiskApi {
  constructor(private readonly gendisk: GenDiskForwarder) {}

  private async forward<T>(method: string, req: unknown): Promise<T> {
    try {
      return await this.gendisk.call<T>(method, req);
    } catch (err) {
      throw new RpcException(grpcStatusOf(err));
    }
  }

  createDisk(req: CreateDiskRequest): Promise<Disk> {
    return this.forward('createDisk', req);
  }
  getDisk(req: GetDiskRequest): Promise<Disk> {
    return this.forward('getDisk', req);
  }
  listDisks(): Promise<ListDisksResponse> {
    return this.forward('listDisks', {});
  }
  configureDisk(req: ConfigureDiskRequest): Promise<Disk> {
    return this.forward('configureDisk', req);
  }
  powerDisk(req: PowerDiskRequest): Promise<Disk> {
    return this.forward('powerDisk', req);
  }
  deleteDisk(req: DeleteDiskRequest): Promise<DeleteDiskResponse> {
    return this.forward('deleteDisk', req);
  }
  features(): Promise<FeaturesResponse> {
    return this.forward('features', {});
  }
}
