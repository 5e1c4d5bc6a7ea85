//! Stage 2 (resolve): a site's `release` into a [`Release`]: the command `blueprint-deploy`
//! runs in each new release before it goes live. It shares the services' command and runtime
//! checks (`process`); like a job it listens on nothing, so `$PORT` means nothing to it.

use toml::Spanned;

use super::process::RawLimits;
use super::{names, Resolver};
use crate::model::{Host, Release, SiteName};

impl Resolver<'_> {
    pub(super) fn release(
        &mut self,
        raw: &Spanned<toml::Value>,
        host: Option<&Host>,
        site: Option<&SiteName>,
    ) -> Option<Release> {
        let (argv, package) = self.process_command(raw, host);
        self.no_port_variables(
            argv.as_deref(),
            raw.span(),
            "the release phase",
            "it runs before the release listens anywhere; pass what it needs through `env`",
        );
        let runtime = self.process_runtime(None, argv.as_ref());
        let limits = self.process_limits(
            &RawLimits {
                memory_max: None,
                cpu_quota: None,
                tasks_max: None,
            },
            raw.span(),
        );
        let phase = names::service_name("release").ok()?;
        Some(Release {
            unit: names::unit_name(site?, &phase),
            argv: argv?,
            package: package?,
            runtime: runtime?,
            limits: limits?,
        })
    }
}
