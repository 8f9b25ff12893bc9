import { defineConfig } from 'tsup';
import { libraryOptions } from '../../tsup.shared';

export default defineConfig(libraryOptions);
