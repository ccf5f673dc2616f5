//! ARCHITECTURE.md's rules, checked on the source: each layer imports only
//! the layers below it, and the connection actor has no `cfg(feature)`.

use std::fs;
use std::path::Path;

/// The layers, lowest first; a module may use its own layer and those before it.
const LAYERS: &[&[&str]] = &[
    &["protocol"],
    &["runtime"],
    &["observe"],
    &["connection"],
    &["reconnect"],
    &["device", "api", "tls", "fleet", "desired"],
    &["testing"],
];

/// Names re-exported at the crate root, and the module each comes from
/// (read from `src/lib.rs`'s `pub use module::{..}` lines).
fn root_names() -> Vec<(String, String)> {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut names = Vec::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        for item in items.trim_matches(|c| "{};".contains(c)).split(',') {
            names.push((item.trim().to_owned(), module.to_owned()));
        }
    }
    names
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::<module>` paths named in code (not in comments) of `source`.
fn crate_modules(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
        // `use crate::{a, b}` groups.
        if let Some(at) = code.find("crate::{") {
            let group = &code[at + "crate::{".len()..];
            for part in group.split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        }
    }
    found
}

#[test]
fn no_layer_imports_a_higher_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let roots = root_names();
    assert!(
        roots
            .iter()
            .any(|(name, module)| name == "MikrotikDevice" && module == "device")
    );
    let mut broken = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(own) = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .and_then(|top| layer_of(top.trim_end_matches(".rs")))
        else {
            continue; // lib.rs, error.rs: the crate root, shared by all.
        };
        let source = fs::read_to_string(file).unwrap();
        for name in crate_modules(&source) {
            let module = roots
                .iter()
                .find(|(root, _)| *root == name)
                .map_or(name.as_str(), |(_, module)| module.as_str());
            if let Some(theirs) = layer_of(module)
                && theirs > own
            {
                broken.push(format!("{} uses crate::{module}", relative.display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports from a higher layer: {broken:#?}"
    );
}

#[test]
fn the_actor_has_no_feature_switches() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/connection");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    for file in files {
        let source = fs::read_to_string(&file).unwrap();
        assert!(
            !source.contains("cfg(feature") && !source.contains("cfg(any(feature"),
            "{} has a cfg(feature)",
            file.display()
        );
    }
}

#[test]
fn the_checker_sees_imports() {
    assert_eq!(
        crate_modules("use crate::device::X;\nuse crate::{api, tls::Y};\n// crate::testing"),
        ["device", "api", "tls"]
    );
}

/// The ground floor: the protocol core and the embedded loop are `no_std`
/// crates (CI links them without `std`); this keeps the attribute from
/// being dropped or made conditional unnoticed.
#[test]
fn the_embedded_crates_are_no_std() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for lib in ["protocol/src/lib.rs", "embedded/src/lib.rs"] {
        let source = fs::read_to_string(root.join(lib)).unwrap();
        assert!(
            source.lines().any(|line| line.trim() == "#![no_std]"),
            "{lib} is not #![no_std]"
        );
        assert!(
            !source.contains("cfg_attr(not("),
            "{lib}: no_std made conditional"
        );
    }
    // The main crate's `protocol` is the core, under its old path.
    let main = fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(main.contains("pub use mikrotik_rs_protocol as protocol;"));
}
