//! User alerts: the PromQL expression is parsed as Prometheus parses it (`promql-parser`), and
//! the `summary` and `description` annotations as Prometheus expands them (Go `text/template`,
//! `gtmpl`), so that a rule Prometheus would refuse to load never reaches the generated files.

use crate::diagnostics::codes;
use crate::source::{Span, Spanned};

use super::reader::Cx;

/// Deeper bracket nesting than this is refused before the parser sees it: no real alert nests
/// this deep, and the parser's tree would be as deep as the input.
const MAX_DEPTH: usize = 64;

/// Reports E0217 unless `expr` is one PromQL expression, pointing into the string where it can.
pub(crate) fn check_promql(cx: &mut Cx, expr: &Spanned<String>) -> bool {
    let text = expr.value.as_str();
    let problem = match brackets(text) {
        Err((at, why)) => Some((Some(at), why)),
        Ok(()) if text.trim().is_empty() => Some((None, "empty expression".to_string())),
        Ok(()) => promql_parser::parser::parse(text).err().map(|e| (None, e)),
    };
    let Some((at, why)) = problem else {
        return true;
    };
    let span = at.map(|i| inner_span(cx, expr, i, i + text[i..].chars().next().map_or(0, char::len_utf8))).unwrap_or(expr.span);
    cx.error(codes::INVALID_PROMQL, span, why, "this alert expression is not valid PromQL").help =
        Some("write one PromQL expression, as Prometheus would load it, e.g. expr=\"sum(rate(jobs_failed_total[5m])) > 0\"".into());
    false
}

/// Where brackets and quotes go wrong in `text`: the byte offset and what is wrong there.
/// Also bounds the nesting (see [`MAX_DEPTH`]).
fn brackets(text: &str) -> Result<(), (usize, String)> {
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut quote: Option<(char, usize)> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some((q, _)) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' if q != '`' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some((c, i)),
            '(' | '[' | '{' => {
                stack.push((c, i));
                if stack.len() > MAX_DEPTH {
                    return Err((i, format!("nested more than {MAX_DEPTH} deep")));
                }
            }
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match stack.pop() {
                    Some((o, _)) if o == open => {}
                    Some((o, at)) => return Err((i, format!("`{c}` closes the `{o}` at offset {at}"))),
                    None => return Err((i, format!("`{c}` closes nothing"))),
                }
            }
            _ => {}
        }
    }
    if let Some((q, at)) = quote {
        return Err((at, format!("`{q}` is never closed")));
    }
    match stack.pop() {
        Some((o, at)) => Err((at, format!("`{o}` is never closed"))),
        None => Ok(()),
    }
}

/// Prometheus' template functions (prometheus/template/template.go); Go's own (`printf`, `eq`,
/// `index`, ...) are gtmpl's builtins. Only their names matter: the templates are parsed,
/// never run.
const PROMETHEUS_FUNCS: &[&str] = &[
    "args",
    "externalURL",
    "first",
    "graphLink",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "label",
    "match",
    "now",
    "parseDuration",
    "pathPrefix",
    "query",
    "reReplaceAll",
    "safeHtml",
    "safeUrl",
    "sortByLabel",
    "strvalue",
    "stripDomain",
    "stripPort",
    "tableLink",
    "title",
    "toDuration",
    "toLower",
    "toTime",
    "toUpper",
    "trimSpace",
    "urlUnescape",
    "value",
];

/// The variables Prometheus defines before expanding an alert's annotations.
const PROMETHEUS_HEADER: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Reports E0218 unless `text` (an alert's `summary` or `description`) parses as the Go
/// template Prometheus expands it as: balanced `{{ }}` actions, `if`/`range`/`with` closed by
/// `end`, known functions and variables (`$labels`, `$value`, ...).
pub(crate) fn check_annotation(cx: &mut Cx, text: &Spanned<String>, what: &str) -> bool {
    if !text.value.contains("{{") && !text.value.contains("}}") {
        return true;
    }
    let Err(why) = annotation(&text.value) else {
        return true;
    };
    let at = text.value.find("{{").unwrap_or(0);
    let span = inner_span(cx, text, at, text.value.len());
    cx.error(codes::INVALID_TEMPLATE, span, why, format!("the alert's {what} is not a valid Prometheus template")).help = Some(
        "annotations are Go templates: close every `{{` with `}}` and every `if`, `range` or `with` with `{{ end }}`, e.g. summary=\"{{ $labels.job }} fails at {{ $value | humanizePercentage }}\"; write `{{ \"{{\" }}` for a literal `{{`".into(),
    );
    false
}

/// Parses `text` as Prometheus' alert template; the error of gtmpl when it does not parse.
fn annotation(text: &str) -> Result<(), String> {
    fn stub(_: &[gtmpl::Value]) -> Result<gtmpl::Value, gtmpl::FuncError> {
        Ok(gtmpl::Value::Nil)
    }
    let mut t = gtmpl::Template::default();
    let funcs: Vec<(&str, gtmpl::Func)> = PROMETHEUS_FUNCS.iter().map(|f| (*f, stub as gtmpl::Func)).collect();
    t.add_funcs(&funcs);
    // gtmpl prefixes `template: NAME:LINE:`; its line count is not the spec's, so it is cut.
    t.parse(format!("{PROMETHEUS_HEADER}{text}")).map_err(|e| {
        let e = e.to_string();
        match e.strip_prefix("template: :").and_then(|rest| rest.split_once(':')) {
            Some((line, msg)) if line.bytes().all(|b| b.is_ascii_digit()) => msg.trim().to_string(),
            _ => e,
        }
    })
}

/// The source span of bytes `start..end` of the string whose value is `value`, or the whole
/// string when escapes make the source differ from the value.
fn inner_span(cx: &Cx, value: &Spanned<String>, start: usize, end: usize) -> Span {
    match cx.source(value.span).find(value.value.as_str()).filter(|_| !value.value.is_empty()) {
        Some(off) => Span::new(value.span.start + off + start, value.span.start + off + end.max(start)),
        None => value.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promql_is_parsed_as_prometheus_parses_it() {
        for ok in ["up == 0", "sum(rate(http_requests_total{job=\"api\", code=~\"5..\"}[5m])) by (job) > 1", "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.3", "absent(up{job='x'})"]
        {
            assert!(promql_parser::parser::parse(ok).is_ok() && brackets(ok).is_ok(), "{ok}");
        }
        for bad in ["up ==", "rate(x[5m]", "sum(x) by", "up == 0; rm -rf /", "x{a=}", "rate(x[5q])", "foo bar"] {
            assert!(brackets(bad).is_err() || promql_parser::parser::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn brackets_point_at_the_problem_and_bound_the_depth() {
        assert_eq!(brackets("sum(rate(x[5m])").unwrap_err().0, 3);
        assert_eq!(brackets("x{a=\"}\"}) > 1").unwrap_err().0, 8);
        assert_eq!(brackets("x{a=\"\\\"}\"}").map_err(|e| e.0), Ok(()));
        let deep = format!("{}up{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(brackets(&deep).unwrap_err().1.contains("nested"));
    }

    #[test]
    fn annotations_parse_as_go_templates_with_prometheus_functions() {
        for ok in [
            "plain text",
            "{{ $labels.job }} at {{ $value | humanizePercentage }}",
            "{{ if gt $value 1.0 }}high{{ else }}low{{ end }}",
            "{{ range query \"up\" }}{{ .Labels.instance }}{{ end }}",
            "{{ printf \"%.2f\" $value }}",
        ] {
            assert_eq!(annotation(ok), Ok(()), "{ok}");
        }
        for bad in ["{{ $labels.job", "{{ if $value }}x", "{{ end }}", "{{ $nope }}", "{{ notAFunction 1 }}", "{{ .Labels.job }}}} {{"] {
            assert!(annotation(bad).is_err(), "{bad}");
        }
    }
}
