import { Init1732320000000 } from './1732320000000-init';
import { ReadModel1764000000000 } from './1764000000000-read-model';

/** Every committed migration, in order; applied to the service's schema and to each rebuilt read model. */
export const MIGRATIONS = [Init1732320000000, ReadModel1764000000000];
