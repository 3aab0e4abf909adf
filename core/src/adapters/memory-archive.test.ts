import { archiveContract } from '../../test/archive-contract.ts';
import { MemoryArchive } from './memory-archive.ts';

archiveContract('in-memory', async () => ({ archive: new MemoryArchive(), close: async () => {} }));
