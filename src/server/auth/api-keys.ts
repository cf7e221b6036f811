// API keys live in the runtime (the key store is its to open); the server checks them on requests.
export { findApiKey, hashSecret, issueApiKey, parseApiKey } from '../../runtime/api-keys.ts';
