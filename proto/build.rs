//! Compiles the service protos with protox (pure Rust, no protoc binary) and tonic-prost-build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "protos/audit/v1/audit.proto",
        "protos/artifact/v1/artifact.proto",
        "protos/resource/v1/resource.proto",
        "protos/appinhouse/v1/appinhouse.proto",
        "protos/jobs/v1/jobs.proto",
    ];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let file_descriptors = protox::compile(protos, ["protos"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Upload and download chunks are passed along without copies.
        .bytes(".tad.artifact.v1")
        .compile_fds(file_descriptors)?;
    Ok(())
}
