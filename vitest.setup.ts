// Matchers such as `toHaveReceivedCommandWith` for aws-sdk-client-mock.
import 'aws-sdk-client-mock-vitest/extend';
