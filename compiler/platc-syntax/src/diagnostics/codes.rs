//! The registry of diagnostic codes.
//!
//! Codes are stable: once released, a code keeps its meaning forever (a retired code is never
//! reused). Each code has a page `docs/errors/CODE.md` that `platc explain CODE` prints; a test
//! checks that the pages and this table match one to one.
//!
//! Ranges: E00xx syntax and files, E01xx structure (nodes, properties, arguments), E02xx values
//! and units, E03xx duplicates, E04xx references, E05xx platform and policies, E06xx the stdlib
//! (resource types, overlays), E07xx graph, E08xx the output tree and the lock (reported as
//! messages: they have no span in a spec, but a code and a page all the same); W01xx warnings.

use super::Severity;

/// A stable diagnostic code such as `E0101`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Code {
    /// The code as reports and `docs/errors/` write it, e.g. `E0101`.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// Errors start with `E`, warnings with `W`.
    pub fn severity(self) -> Severity {
        if self.0.starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// The one-line title of this code.
    pub fn title(self) -> &'static str {
        ALL.iter().find(|(c, _)| *c == self).map(|(_, t)| *t).unwrap_or("")
    }

    /// Looks a code up by its text (case-insensitive).
    pub fn parse(text: &str) -> Option<Code> {
        ALL.iter().map(|(c, _)| *c).find(|c| c.0.eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! codes {
    ($($name:ident = $code:literal, $title:literal;)*) => {
        $(#[doc = $title] pub const $name: Code = Code($code);)*
        /// Every code with its title, in code order.
        pub const ALL: &[(Code, &str)] = &[$(($name, $title)),*];
    };
}

codes! {
    SYNTAX = "E0001", "KDL syntax error";
    NOT_UTF8 = "E0002", "file is not valid UTF-8";
    EXPECTED_TOP_NODE = "E0003", "a spec file must hold exactly one top-level node of the right kind";
    NESTING_TOO_DEEP = "E0004", "nesting deeper than platc reads";
    INPUT_TOO_LARGE = "E0005", "input larger than platc reads";

    UNKNOWN_NODE = "E0101", "unknown node";
    UNKNOWN_PROPERTY = "E0102", "unknown property";
    MISSING_VALUE = "E0103", "required argument, property or node is missing";
    UNEXPECTED_ARGUMENT = "E0104", "unexpected argument";
    WRONG_TYPE = "E0105", "value has the wrong type";
    REPEATED_NODE = "E0106", "node or property given more than once";
    UNEXPECTED_CHILDREN = "E0107", "node does not take a children block";

    INVALID_CPU = "E0201", "invalid CPU quantity";
    INVALID_MEMORY = "E0202", "invalid memory quantity";
    INVALID_DURATION = "E0203", "invalid duration";
    INVALID_PERCENT = "E0204", "invalid percentage";
    NOT_ALLOWED = "E0205", "value is not one of the allowed values";
    OUT_OF_RANGE = "E0206", "number out of range";
    INVALID_NAME = "E0207", "invalid name";
    MIN_ABOVE_MAX = "E0208", "minimum is greater than maximum";
    REQUEST_ABOVE_LIMIT = "E0209", "resource request is greater than its limit";
    INVALID_SCHEDULE = "E0210", "invalid cron schedule";
    INVALID_IMAGE = "E0211", "invalid container image reference";
    INVALID_ENV_NAME = "E0212", "invalid environment variable name";
    INVALID_PATCH = "E0213", "invalid patch";
    INVALID_PATH = "E0214", "invalid HTTP path or host";
    INVALID_URL = "E0215", "invalid URL";
    LITERAL_SECRET = "E0216", "literal secret value";
    INVALID_PROMQL = "E0217", "invalid PromQL expression";
    INVALID_TEMPLATE = "E0218", "invalid alert annotation template";
    NAME_TOO_LONG = "E0219", "generated Kubernetes name or key too long";
    NAME_OF_GENERATED_FILE = "E0220", "a service has the name of a file of the GitOps wiring";
    UNPINNED_PREBUILT_IMAGE = "E0221", "an image platc does not build names no tag";
    LANGUAGE_OF_PREBUILT_IMAGE = "E0222", "a language for an image platc does not build";

    DUPLICATE = "E0301", "duplicate definition";

    UNKNOWN_RESOURCE_TYPE = "E0401", "unknown resource type";
    UNKNOWN_RESOURCE_PARAM = "E0402", "unknown resource parameter";
    UNKNOWN_RESOURCE = "E0403", "reference to an undeclared resource";
    UNKNOWN_OUTPUT = "E0404", "reference to an output the resource type does not have";
    UNKNOWN_SERVICE = "E0405", "reference to a service that does not exist";
    UNKNOWN_ENVIRONMENT = "E0406", "environment not declared in platform.kdl";
    UNKNOWN_PORT = "E0407", "reference to an undeclared port";
    BAD_INTERPOLATION = "E0408", "malformed `${...}` reference";
    UNKNOWN_PLATFORM_VALUE = "E0409", "reference to an unknown platform value";
    // Retired: never reported (a secret output inside a longer string is composed by the kubelet).
    SECRET_OUTPUT_IN_ENV = "E0410", "secret resource output used in a plain env var";
    SELF_CALL = "E0411", "a service calls or depends on itself";
    PATCH_NO_TARGET = "E0412", "patch matches no generated object";
    AMBIGUOUS_SLO_PORT = "E0413", "the SLO cannot tell which port it measures";

    NO_PLATFORM = "E0501", "no platform.kdl found";
    MULTIPLE_PLATFORMS = "E0502", "more than one platform.kdl";
    POLICY_VIOLATION = "E0503", "platform policy violated";
    UNKNOWN_POLICY = "E0504", "unknown policy";
    UNKNOWN_PROVISIONER = "E0505", "unknown provisioner";

    INVALID_RESOURCE_TYPE = "E0601", "invalid resource type definition";
    CHART_TEMPLATE_OVERLAY = "E0602", "a stdlib overlay has a Helm chart template";
    BROKEN_STDLIB_FILE = "E0603", "a stdlib file a backend reads is broken";

    DEPENDENCY_CYCLE = "E0701", "start-up dependency cycle";

    UNTRUSTED_LOCK = "E0801", "the lock file has a line platc cannot trust";
    OUTPUT_SYMLINK = "E0802", "a symbolic link where platc reads or writes its outputs";
    INPUT_SYMLINK = "E0803", "a spec or a directory of specs is a symbolic link";
    WOULD_LOSE_CONTENT = "E0804", "the build would overwrite or delete a file platc did not write as it is";
    OVERLAY_OUTSIDE = "E0805", "a stdlib overlay named by platform.kdl is not a directory inside the platform directory";
    OUTPUT_OUT_OF_DATE = "E0806", "a generated file differs from what a fresh build writes";

    NO_READINESS_PROBE = "W0101", "service has no readiness probe";
    IMAGE_HAS_TAG = "W0102", "image reference pins a tag in the spec";
    PUBLIC_ROUTE_WITHOUT_SLO = "W0103", "public route without an SLO";
    CI_LIMIT_EXCEEDED = "W0104", "generated pipeline exceeds a limit of the CI system";
    UNUSED_SECRET_WAIVER = "W0105", "secret waiver matches nothing";
    UNUSED_POLICY_WAIVER = "W0106", "policy waiver matches nothing";
    UNSCRAPED_SLO = "W0107", "SLO over metrics that nothing scrapes";
    UNISSUED_TLS_CERTIFICATE = "W0108", "Ingress TLS certificates that nothing makes";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for (c, title) in ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert!(c.as_str().len() == 5, "{c}");
            assert!(c.as_str().starts_with('E') || c.as_str().starts_with('W'), "{c}");
            assert!(!title.is_empty());
        }
    }

    #[test]
    fn parse_is_case_insensitive() {
        assert_eq!(Code::parse("e0101"), Some(UNKNOWN_NODE));
        assert_eq!(Code::parse("X9999"), None);
    }
}
