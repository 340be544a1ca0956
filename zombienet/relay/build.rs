//! Records the version and commit the node and its PVF workers compare at start-up.
fn main() {
    substrate_build_script_utils::generate_cargo_keys();
    substrate_build_script_utils::rerun_if_git_head_changed();
}
