/** The operator token every test worker is configured with (ADMIN_TOKEN needs ≥ 32 characters). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0f8b7c6d5e4f3a2b1c0d9e8f';
