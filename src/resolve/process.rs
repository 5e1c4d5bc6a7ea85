//! Stage 2 (resolve): what a service and a job share, as processes of a site: the command
//! (`run`), the package of its executable, the runtime that decides its sandbox relaxations,
//! and its cgroup limits.

use std::ops::Range;

use toml::Spanned;

use super::invalid::Invalid;
use super::{command, limits, packages, Resolver};
use crate::model::{Host, Limits, Runtime};
use crate::raw::SpannedString;
use crate::suggest;

/// A process's `memory_max`, `cpu_quota` and `tasks_max` keys as written.
pub(super) struct RawLimits<'a> {
    pub(super) memory_max: Option<&'a SpannedString>,
    pub(super) cpu_quota: Option<&'a SpannedString>,
    pub(super) tasks_max: Option<&'a Spanned<i64>>,
}

impl Resolver<'_> {
    /// Reports each port variable (`$PORT`, `$METRICS_PORT`) that `argv` of a process listening
    /// on nothing (`what`: a job, the release phase) names at `span`: systemd would expand it
    /// to nothing.
    pub(super) fn no_port_variables(
        &mut self,
        argv: Option<&[String]>,
        span: Range<usize>,
        what: &str,
        help: &str,
    ) {
        let argv = argv.unwrap_or_default();
        for variable in command::PORT_VARIABLES {
            if command::mentions(argv, variable) {
                let message = format!("{what} has no `${variable}`");
                self.report(span.clone(), Invalid::new(message, help));
            }
        }
    }

    /// `run` as argv, and the distribution package of its executable (when a system one).
    pub(super) fn process_command(
        &mut self,
        run: &Spanned<toml::Value>,
        host: Option<&Host>,
    ) -> (Option<Vec<String>>, Option<Option<&'static str>>) {
        let argv = self.check(run.span(), command::command(run.get_ref()));
        let package = argv.as_ref().and_then(|argv| {
            let (os, listed) = host.map_or((None, &[][..]), |h| (Some(h.os), &h.packages[..]));
            let provided = packages::executable_package(&argv[0], os, listed);
            self.check(run.span(), provided)
        });
        (argv, package)
    }

    /// The runtime named in `runtime`, or guessed from the executable.
    pub(super) fn process_runtime(
        &mut self,
        runtime: Option<&SpannedString>,
        argv: Option<&Vec<String>>,
    ) -> Option<Runtime> {
        match runtime {
            Some(r) => Runtime::from_id(r.get_ref()).or_else(|| {
                let known: Vec<_> = Runtime::ALL
                    .iter()
                    .map(|r| format!("`{}`", r.id()))
                    .collect();
                self.report(
                    r.span(),
                    Invalid::new(
                        format!("unknown runtime `{}`", r.get_ref()),
                        format!(
                            "{}use one of {}",
                            suggest::hint(r.get_ref(), Runtime::ALL.iter().map(|r| r.id())),
                            known.join(", ")
                        ),
                    ),
                );
                None
            }),
            None => argv.map(|a| Runtime::infer(&a[0])),
        }
    }

    /// The limits, each mistake reported at its key (or at `fallback`).
    pub(super) fn process_limits(
        &mut self,
        raw: &RawLimits<'_>,
        fallback: Range<usize>,
    ) -> Option<Limits> {
        match limits::limits(
            raw.memory_max.map(|s| s.get_ref().as_str()),
            raw.cpu_quota.map(|s| s.get_ref().as_str()),
            raw.tasks_max.map(|t| *t.get_ref()),
        ) {
            Ok(limits) => Some(limits),
            Err(wrong) => {
                for (field, invalid) in wrong {
                    let span = match field {
                        limits::Field::MemoryMax => raw.memory_max.map(Spanned::span),
                        limits::Field::CpuQuota => raw.cpu_quota.map(Spanned::span),
                        limits::Field::TasksMax => raw.tasks_max.map(Spanned::span),
                    };
                    self.report(span.unwrap_or_else(|| fallback.clone()), invalid);
                }
                None
            }
        }
    }
}
