//! IoT Hub core, sans-I/O: topics, property bags, twin and method correlation, connection policy.
