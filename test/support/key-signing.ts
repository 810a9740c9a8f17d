/** The KEY_SIGNING_SECRETS every test worker runs with, so keys the tests mint are signed as the CLI signs them. */
export const TEST_KEY_SIGNING_SECRET = 'test-key-signing-secret-0123456789abcdef';
