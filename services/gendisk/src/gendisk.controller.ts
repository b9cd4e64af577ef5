// The GenDisk gRPC API: null_blk's configfs over the wire. Thin: validation and state
// live in DiskRegistry (libs/gendisk).
import { Controller } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { grpcStatusOf, InvalidArgumentError, wireInteger } from '#service-kit';
import { attributesFromWire, DiskRegistry, diskToWire } from '#gendisk';
import { features } from '#rnull';
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
  ZoneAdminCondition,
} from '#proto/nest/blk/v1/gen_disk';

/** The wire's zone_readonly / zone_offline condition, as the registry names it. */
const ZONE_ADMIN_CONDITION = {
  [ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY]: 'READ_ONLY',
  [ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE]: 'OFFLINE',
} as const;

/** Runs `fn`, turning any error into the gRPC status that names the problem. */
async function rpc<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new RpcException(grpcStatusOf(err));
  }
}

@Controller()
@GenDiskControllerMethods()
export class GenDiskController implements GenDiskApi {
  constructor(private readonly registry: DiskRegistry) {}

  createDisk(req: CreateDiskRequest): Promise<Disk> {
    return rpc(async () => diskToWire(await this.registry.create(req.name, attributesFromWire(req.attributes), req.power)));
  }

  getDisk(req: GetDiskRequest): Promise<Disk> {
    return rpc(async () => diskToWire(await this.registry.get(req.name)));
  }

  listDisks(): Promise<ListDisksResponse> {
    return rpc(async () => ({ disks: (await this.registry.list()).map(diskToWire) }));
  }

  configureDisk(req: ConfigureDiskRequest): Promise<Disk> {
    return rpc(async () => diskToWire(await this.registry.configure(req.name, attributesFromWire(req.attributes))));
  }

  powerDisk(req: PowerDiskRequest): Promise<Disk> {
    return rpc(async () => diskToWire(await this.registry.power(req.name, req.power)));
  }

  deleteDisk(req: DeleteDiskRequest): Promise<DeleteDiskResponse> {
    return rpc(async () => {
      await this.registry.delete(req.name);
      return {};
    });
  }

  features(): Promise<FeaturesResponse> {
    return rpc(async () => ({ features: features() }));
  }

  setZoneCondition(req: SetZoneConditionRequest): Promise<SetZoneConditionResponse> {
    return rpc(async () => {
      const cond = ZONE_ADMIN_CONDITION[req.condition as keyof typeof ZONE_ADMIN_CONDITION];
      if (!cond) throw new InvalidArgumentError('condition', `must be READ_ONLY or OFFLINE, got ${req.condition}`);
      await this.registry.setZoneCondition(req.name, wireInteger('sector', req.sector), cond);
      return {};
    });
  }
}
