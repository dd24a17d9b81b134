//! Local DPS + IoT Hub emulator: the command-line entry point.

fn main() {
    println!("iot-emulator: not implemented yet");
}
