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
