/**
 * Backend selection lives in @sdekit/nn (`useBackend`, `selectBackend`); the CLI re-exports it so
 * that programs written against @sdekit/cli keep working.
 */
export {
  type BackendPreference,
  type BackendSelection,
  backendPreference,
  selectBackend,
  useBackend,
} from '@sdekit/nn';

import { type BackendPreference, type BackendSelection, selectBackend } from '@sdekit/nn';
import * as tf from '@tensorflow/tfjs-core';

/**
 * `selectBackend` for a command. Under --quiet, TensorFlow.js's own console messages go too (the cpu
 * backend's "install the node backend" banner): its `PROD` flag, which in tfjs-core 4 gates only
 * tfjs's log and warn calls, is set before the backend starts.
 */
export async function selectCommandBackend(
  preference: BackendPreference,
  quiet: boolean,
): Promise<BackendSelection> {
  if (quiet) tf.env().set('PROD', true);
  return selectBackend(preference);
}
