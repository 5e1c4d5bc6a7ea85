//! Runtime families. The sandbox is as tight as the runtime allows: only a JIT runtime loses
//! `MemoryDenyWriteExecute=`, and that relaxation is printed in the unit and in PLAN.md.

use serde::Serialize;

/// What kind of program a service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// Node.js, Bun, Deno: V8/JSC JIT needs writable+executable memory.
    Node,
    /// CPython: runs under `MemoryDenyWriteExecute=`.
    Python,
    /// Java and other JVM languages: JIT.
    Jvm,
    /// Compiled binaries (Go, Rust, C): the full sandbox.
    Native,
}

impl Runtime {
    /// Every runtime, for error messages.
    pub const ALL: [Runtime; 4] = [
        Runtime::Node,
        Runtime::Python,
        Runtime::Jvm,
        Runtime::Native,
    ];

    /// The spelling used in `sites.toml`.
    pub fn id(self) -> &'static str {
        match self {
            Runtime::Node => "node",
            Runtime::Python => "python",
            Runtime::Jvm => "jvm",
            Runtime::Native => "native",
        }
    }

    /// Parses the `sites.toml` spelling.
    pub fn from_id(id: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Guesses the runtime from the executable's file name when `runtime` is not given.
    pub fn infer(executable: &str) -> Runtime {
        let name = executable.rsplit('/').next().unwrap_or(executable);
        match name {
            "node" | "nodejs" | "npm" | "npx" | "pnpm" | "yarn" | "bun" | "deno" => Runtime::Node,
            "java" => Runtime::Jvm,
            n if n.starts_with("python") || matches!(n, "gunicorn" | "uvicorn" | "hypercorn") => {
                Runtime::Python
            }
            _ => Runtime::Native,
        }
    }

    /// Whether the runtime needs writable and executable memory (a JIT).
    pub fn needs_wx_memory(self) -> bool {
        matches!(self, Runtime::Node | Runtime::Jvm)
    }
}
