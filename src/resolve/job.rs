//! Stage 2 (resolve): one `[sites.<site>.jobs.<name>]` into a [`Job`]: a command of the site
//! run by a systemd timer. It shares the services' command, runtime and limit checks
//! (`process`); its own are the schedule (`calendar`), the timeout, and that it listens on
//! nothing, so `$PORT` means nothing to it.

use toml::Spanned;

use super::process::RawLimits;
use super::{calendar, duration, names, Resolver};
use crate::model::{Host, Job, SiteName};
use crate::raw::{RawJob, SpannedString};

/// A run's longest time unless `timeout` says otherwise.
pub(super) const DEFAULT_TIMEOUT: &str = "1h";

impl Resolver<'_> {
    pub(super) fn job(
        &mut self,
        name: &SpannedString,
        raw: &Spanned<RawJob>,
        host: Option<&Host>,
        site: Option<&SiteName>,
    ) -> Option<Job> {
        let job = raw.get_ref();
        let checked_name = self.check(name.span(), names::service_name(name.get_ref()));
        let (argv, package) = self.process_command(&job.run, host);
        self.no_port_variables(
            argv.as_deref(),
            job.run.span(),
            "a job",
            "a job listens on nothing; pass what it needs through `env`",
        );
        let schedule = self.check(
            job.schedule.span(),
            calendar::calendar(job.schedule.get_ref()),
        );
        let timeout = match &job.timeout {
            None => Some(DEFAULT_TIMEOUT.to_owned()),
            Some(t) => self
                .check(t.span(), duration::duration("timeout", t.get_ref()))
                .map(|_| t.get_ref().clone()),
        };
        let runtime = self.process_runtime(job.runtime.as_ref(), argv.as_ref());
        let limits = self.process_limits(
            &RawLimits {
                memory_max: job.memory_max.as_ref(),
                cpu_quota: job.cpu_quota.as_ref(),
                tasks_max: None,
            },
            raw.span(),
        );
        let name = checked_name?;
        let unit = names::unit_name(site?, &name);
        schedule?;
        Some(Job {
            name,
            unit,
            argv: argv?,
            package: package?,
            schedule: job.schedule.get_ref().clone(),
            timeout: timeout?,
            enabled: job.enabled.unwrap_or(true),
            runtime: runtime?,
            limits: limits?,
        })
    }
}
