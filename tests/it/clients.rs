//! Runs the Python client suite (boto3 and the aws CLI, `tests/clients/`) against the binary.

use std::process::Command;

#[test]
fn python_clients_suite() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .args(["-m", "pytest", "tests/clients", "-q"])
        .current_dir(root)
        .env("SEALSTORE_BIN", env!("CARGO_BIN_EXE_sealstore"))
        .output()
        .expect("run python3 -m pytest (is python3 installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("---- pytest stdout ----\n{stdout}\n---- pytest stderr ----\n{stderr}");
    assert!(
        out.status.success(),
        "pytest tests/clients failed with {} (output above)",
        out.status
    );
}
