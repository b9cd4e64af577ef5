import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlockDeviceService, Op } from '#proto/grpc/blk/v1/block_device';
import { GenDiskService } from '#proto/grpc/blk/v1/gen_disk';
import { REFLECTION_METHODS, RPC_ROLES, rpcRule } from './rpc-roles';
import { roleGrants, ROLES, strongerRole } from './role';

describe('roles', () => {
  it('admin ⊇ write ⊇ read', () => {
    const grants = ROLES.map((held) => ROLES.filter((needed) => roleGrants(held, needed)));
    expect(grants).toEqual([['read'], ['read', 'write'], ['read', 'write', 'admin']]);
    expect(strongerRole('read', 'write')).toBe('write');
    expect(strongerRole('admin', 'read')).toBe('admin');
  });
});

describe('RPC_ROLES', () => {
  it('has a row for every method of blk.v1 and of server reflection, and no other', () => {
    const methods = [...Object.values(BlockDeviceService), ...Object.values(GenDiskService)].map((m) => m.path);
    expect(Object.keys(RPC_ROLES).sort()).toEqual([...methods, ...REFLECTION_METHODS].sort());
  });

  it('GenDisk: list, get and features need read; create, configure, power, delete and zone conditions need admin', () => {
    const start = (p: string) => rpcRule(p).start;
    expect(Object.fromEntries(Object.values(GenDiskService).map((m) => [m.path.split('/')[2], start(m.path)]))).toEqual({
      CreateDisk: 'admin',
      GetDisk: 'read',
      ListDisks: 'read',
      ConfigureDisk: 'admin',
      PowerDisk: 'admin',
      DeleteDisk: 'admin',
      Features: 'read',
      SetZoneCondition: 'admin',
    });
    for (const path of REFLECTION_METHODS) expect(rpcRule(path)).toEqual({ start: 'read' });
  });

  it('BlockDevice: a call starts with read; a READ needs read, every other op write', () => {
    const submit = rpcRule(BlockDeviceService.submit.path);
    expect(submit.start).toBe('read');
    const byOp = Object.fromEntries(
      [Op.OP_UNSPECIFIED, Op.OP_READ, Op.OP_WRITE, Op.OP_FLUSH, Op.OP_DISCARD, Op.OP_WRITE_ZEROES, Op.OP_ZONE_APPEND, Op.OP_ZONE_RESET].map(
        (op) => [Op[op], submit.message!({ op })],
      ),
    );
    expect(byOp).toEqual({
      OP_UNSPECIFIED: 'write',
      OP_READ: 'read',
      OP_WRITE: 'write',
      OP_FLUSH: 'write',
      OP_DISCARD: 'write',
      OP_WRITE_ZEROES: 'write',
      OP_ZONE_APPEND: 'write',
      OP_ZONE_RESET: 'write',
    });
    expect(rpcRule(BlockDeviceService.reportZones.path)).toEqual({ start: 'read' });
  });

  it('SubmitStream: a message needs the strongest role of its submissions', () => {
    const stream = rpcRule(BlockDeviceService.submitStream.path);
    expect(stream.start).toBe('read');
    expect(stream.message!({ submissions: [] })).toBe('read');
    expect(stream.message!({ submissions: [{ op: Op.OP_READ }, { op: Op.OP_READ }] })).toBe('read');
    expect(stream.message!({ submissions: [{ op: Op.OP_READ }, { op: Op.OP_WRITE }] })).toBe('write');
  });

  it('a method it does not name needs admin', () => {
    expect(rpcRule('/blk.v1.GenDisk/Format')).toEqual({ start: 'admin' });
    expect(rpcRule('toString')).toEqual({ start: 'admin' });
  });
});

describe('README\'s copy (section "Security")', () => {
  /** The README's role table: role -> the text of its row. */
  const rows = (): Map<string, string> => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Security'));
    return new Map([...section.matchAll(/^\| `(read|write|admin)` \| (.*) \|$/gm)].map((m) => [m[1], m[2]]));
  };

  it('lists each GenDisk method in the row of its role, and READ under read, every other op under write', () => {
    const table = rows();
    expect([...table.keys()]).toEqual(['read', 'write', 'admin']);
    for (const m of Object.values(GenDiskService)) {
      const name = m.path.split('/')[2];
      expect([name, table.get(rpcRule(m.path).start)]).toEqual([name, expect.stringMatching(new RegExp(`[\`.]${name}\``))]);
    }
    for (const op of [Op.OP_READ, Op.OP_WRITE, Op.OP_FLUSH, Op.OP_DISCARD, Op.OP_WRITE_ZEROES]) {
      const role = rpcRule(BlockDeviceService.submit.path).message!({ op });
      expect([Op[op], table.get(role)]).toEqual([Op[op], expect.stringContaining(`\`${Op[op]}\``)]);
    }
  });
});
