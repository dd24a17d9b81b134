//! MQTT 3.1.1 client core, sans-I/O: codec and session state machine.
