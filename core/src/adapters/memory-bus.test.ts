import { busContract } from '../../test/bus-contract.ts';
import { MemoryBus } from './memory-bus.ts';

busContract('in-process', async () => {
  const bus = new MemoryBus();
  return { a: bus, b: bus, close: async () => {} };
});
