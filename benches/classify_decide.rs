//! classify + detect + decide per request (issue 1/7, acceptance 4): 10,000 realistic request
//! URLs from an English Wikipedia page against a 200-rule consent list.
//!
//! The baseline in the same run is `Url::join` of the same URLs, the one step no auditor can
//! skip; read the result as "assess costs N× a URL parse". Run: `cargo bench --bench
//! classify_decide` (or `scripts/bench.sh`, which prints the per-request medians); per-request
//! time = reported time / 10,000 (criterion also prints elements per second).
//!
//! Both benchmarks run twice: group `per-10k-requests` measures wall-clock time (criterion's
//! default), group `per-10k-requests-cpu` the benchmark thread's own CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`, Linux), which other jobs on a busy machine do not inflate by
//! preempting it. On an idle machine the two agree.

use criterion::measurement::Measurement;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use tpr_auditor::assess::{Auditor, RequestInput};
use tpr_auditor::carried::PageValues;
use tpr_auditor::classify::Preset;
use tpr_auditor::consent::ConsentList;
use tpr_auditor::model::{Channel, Source, SourceKind};

const DIRECTIVES: [&str; 5] = [
    "script-src",
    "style-src",
    "img-src",
    "connect-src",
    "font-src",
];

/// 200 rules in the shapes users write: wildcard Cloud hosts, CDNs per gadget, paths, ports.
pub fn consent_200() -> String {
    let mut rules = Vec::new();
    // 199 generated rules and the SPEC §7 example: 200 in all.
    for i in 0..199 {
        let source = match i % 5 {
            0 => format!("https://tool{i}.toolforge.org"),
            1 => format!("https://*.cdn{i}.example"),
            2 => format!("https://api{i}.example.com/v1/"),
            3 => format!("https://host{i}.example.net:8443"),
            _ => format!("*.site{i}.org"),
        };
        let scope = if i % 3 == 0 {
            "*".to_string()
        } else {
            format!("gadget:G{}", i % 40)
        };
        let decision = ["allow", "block", "ask"][i % 3];
        rules.push(format!(
            r#"{{"source":"{source}","directives":["{}"],"scope":"{scope}","decision":"{decision}"}}"#,
            DIRECTIVES[i % DIRECTIVES.len()]
        ));
    }
    rules.push(
        r#"{"source":"https://*.toolforge.org","directives":["connect-src"],"scope":"*","decision":"allow"}"#
            .to_string(),
    );
    assert_eq!(rules.len(), 200);
    format!(
        r#"{{"version":1,"mode":"ask","defaults":{{"wikimedia":"allow","local":"allow","cloud":"ask","third":"ask","executable-third":"block"}},"rules":[{}]}}"#,
        rules.join(",")
    )
}

/// 10,000 requests in the mix a gadget-heavy page makes.
pub fn requests_10k() -> Vec<RequestInput> {
    let shapes: [(&str, Channel); 12] = [
        (
            "https://en.wikipedia.org/w/api.php?action=query&format=json&titles=Main_Page&n={i}",
            Channel::Fetch,
        ),
        (
            "/w/load.php?modules=ext.gadget.G{i}&only=scripts",
            Channel::Script,
        ),
        (
            "https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/F{i}.jpg/220px-F{i}.jpg",
            Channel::Img,
        ),
        (
            "https://tool{i}.toolforge.org/api/v1/check?page=Main_Page&user=Jane_Doe",
            Channel::Xhr,
        ),
        (
            "https://xtools.wmcloud.org/api/page/articleinfo/en.wikipedia.org/Main_Page?r={i}",
            Channel::Fetch,
        ),
        (
            "https://fonts.googleapis.com/css2?family=Roboto{i}&display=swap",
            Channel::Style,
        ),
        (
            "https://fonts.gstatic.com/s/roboto/v{i}/KFOmCnqEu92Fr1Mu4mxK.woff2",
            Channel::FontFace,
        ),
        (
            "https://cdn.jsdelivr.net/npm/lib{i}@1.2.3/dist/lib.min.js",
            Channel::Script,
        ),
        (
            "https://api{i}.example.com/v1/translate?q=Jane%20Doe&token=abc",
            Channel::Beacon,
        ),
        ("http://localhost:5500/dev{i}.js", Channel::Script),
        ("https://a.cdn{i}.example/pic.png?x={i}", Channel::Img),
        (
            "wss://stream{i}.example.net/v2/stream/recentchange",
            Channel::Websocket,
        ),
    ];
    (0..10_000)
        .map(|n| {
            let (shape, channel) = shapes[n % shapes.len()];
            let i = (n * 7919) % 211;
            let mut req = RequestInput::new(shape.replace("{i}", &i.to_string()), channel);
            if n % 10 == 0 {
                req.body = Some(format!(
                    "action=edit&title=Main_Page&token=ab12cd34ef{i}%2B%5C"
                ));
            }
            req
        })
        .collect()
}

fn auditor() -> Auditor {
    let values = PageValues {
        user_name: Some("Jane Doe".into()),
        user_id: Some("4242".into()),
        page_name: Some("Main_Page".into()),
        title: Some("Main Page".into()),
        article_id: Some("15580374".into()),
        revision_id: Some("1234567890".into()),
        tokens: vec!["ab12cd34ef56+\\".into(), "0123456789abcdef+\\".into()],
        ..PageValues::default()
    };
    let consent = ConsentList::parse(&consent_200()).expect("bench consent list is valid");
    Auditor::new(
        "https://en.wikipedia.org/wiki/Main_Page",
        &[Preset::wikimedia_production()],
        &values,
        consent,
    )
    .expect("valid page")
}

/// The benchmark thread's CPU time, as a criterion measurement (wall-clock time where the
/// thread clock is not available).
mod cpu_time {
    use criterion::measurement::{Measurement, ValueFormatter, WallTime};
    use std::time::Duration;

    pub struct ThreadCpuTime;

    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    fn now() -> Duration {
        /// `struct timespec` on 64-bit Linux: `time_t` and `long` are both 64 bits.
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a Linux constant.
        let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        )
    }

    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    fn now() -> Duration {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed()
    }

    impl Measurement for ThreadCpuTime {
        type Intermediate = Duration;
        type Value = Duration;

        fn start(&self) -> Duration {
            now()
        }

        fn end(&self, started: Duration) -> Duration {
            now().saturating_sub(started)
        }

        fn add(&self, a: &Duration, b: &Duration) -> Duration {
            *a + *b
        }

        fn zero(&self) -> Duration {
            Duration::ZERO
        }

        fn to_f64(&self, value: &Duration) -> f64 {
            value.as_nanos() as f64
        }

        fn formatter(&self) -> &dyn ValueFormatter {
            // Same unit (nanoseconds) as wall time, so the same formatting.
            static WALL: WallTime = WallTime;
            WALL.formatter()
        }
    }
}

fn bench_wall(c: &mut Criterion) {
    bench(c, "per-10k-requests");
}

fn bench_cpu(c: &mut Criterion<cpu_time::ThreadCpuTime>) {
    bench(c, "per-10k-requests-cpu");
}

fn bench<M: Measurement>(c: &mut Criterion<M>, group_name: &str) {
    let auditor = auditor();
    let requests = requests_10k();
    let sources: Vec<Source> = (0..40)
        .map(|g| Source::named(SourceKind::Gadget, Some(format!("G{g}"))))
        .collect();
    let base = url::Url::parse("https://en.wikipedia.org/wiki/Main_Page").expect("valid");

    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function(BenchmarkId::new("baseline", "url-join"), |b| {
        b.iter(|| {
            for req in &requests {
                black_box(base.join(black_box(&req.url)).ok());
            }
        })
    });
    group.bench_function(BenchmarkId::new("assess", "classify+carried+decide"), |b| {
        b.iter(|| {
            for (n, req) in requests.iter().enumerate() {
                black_box(
                    auditor
                        .assess(black_box(req), &sources[n % sources.len()])
                        .ok(),
                );
            }
        })
    });
    group.finish();
}

criterion_group!(wall, bench_wall);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(cpu_time::ThreadCpuTime);
    targets = bench_cpu
}
criterion_main!(wall, cpu);
