import { archiveContract } from './archive-contract.ts';
import { MemoryArchive } from './memory-archive.ts';

archiveContract('in-memory', async () => ({ archive: new MemoryArchive(), close: async () => {} }));
