// `--nr-devices` / NR_DEVICES parsing and the device names of `npm start`.
import { DEFAULT_NR_DEVICES, deviceName, MAX_NR_DEVICES, readNrDevices } from './nr-devices';

it('defaults to one device, takes 1..MAX_NR_DEVICES, refuses anything else naming nr_devices', () => {
  expect(readNrDevices(undefined)).toBe(DEFAULT_NR_DEVICES);
  expect(readNrDevices('')).toBe(1);
  expect(readNrDevices('4')).toBe(4);
  expect(readNrDevices(String(MAX_NR_DEVICES))).toBe(MAX_NR_DEVICES);
  for (const bad of ['0', '-1', '2.5', 'x', ' 3', String(MAX_NR_DEVICES + 1)])
    expect(() => readNrDevices(bad)).toThrow(/^nr_devices must be/);
});

it('names the devices rnullb0 … rnullb{N-1}', () => {
  expect([0, 1, 2].map(deviceName)).toEqual(['rnullb0', 'rnullb1', 'rnullb2']);
});
