import { parseClusterNodes } from './redis-processes';

const NODES = [
  'a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460',
  'b2 127.0.0.1:7002@17002 master - 0 1700000000000 2 connected 5461-10922',
  'c3 127.0.0.1:7003@17003 slave a1 0 1700000000000 1 connected',
  'd4 10.0.0.4:7004@17004,node4.example slave b2 0 1700000000000 2 connected',
  'e5 127.0.0.1:7005@17005 master,fail - 1700000000000 1700000000000 3 disconnected',
  'f6 :0@0 master,noaddr - 0 0 0 disconnected',
  '',
].join('\n');

describe('parseClusterNodes', () => {
  it('lists the live nodes with their addresses, leaving failed and address-less nodes out', () => {
    expect(parseClusterNodes(NODES)).toEqual([
      { host: '127.0.0.1', port: 7001 },
      { host: '127.0.0.1', port: 7002 },
      { host: '127.0.0.1', port: 7003 },
      { host: '10.0.0.4', port: 7004 },
    ]);
  });

  it('throws on text that is not CLUSTER NODES output, or without a live node', () => {
    expect(() => parseClusterNodes('ERR This instance has cluster support disabled')).toThrow(/not a CLUSTER NODES line/);
    expect(() => parseClusterNodes('e5 127.0.0.1:7005@17005 master,fail - 0 0 3 disconnected')).toThrow(/no live node/);
  });
});
