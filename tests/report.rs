//! The figures and the report of a cohort run: every figure present, valid SVG with the arms
//! and axis titles, the same bytes when the run is repeated; report.html one file with every
//! figure and the summary's numbers, no external reference; what the terminal shows.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_immunotrial"))
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("immunotrial-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn tnbc() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tnbc_combinations.toml")
}

fn run(out: &Path, extra: &[&str]) -> Output {
    let o = bin()
        .arg("run")
        .arg(tnbc())
        .args(["--patients", "24", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

const FIGURES: [&str; 8] = [
    "km_pfs",
    "km_os",
    "waterfall",
    "spider",
    "swimmer",
    "forest",
    "exposure",
    "mechanism",
];

const ARMS: [&str; 6] = [
    "untreated",
    "nab-paclitaxel",
    "pembrolizumab",
    "pembrolizumab + nab-paclitaxel",
    "pembrolizumab + RT 3 x 8 Gy",
    "pembrolizumab + nab-paclitaxel + RT",
];

/// The axis titles each figure must show.
fn axis_titles(stem: &str) -> &'static [&'static str] {
    match stem {
        "km_pfs" => &[
            "Months since the start of treatment",
            "Progression-free survival (probability)",
            "Number at risk",
        ],
        "km_os" => &[
            "Months since the start of treatment",
            "Overall survival (probability)",
        ],
        "waterfall" => &["Best change (%)"],
        "spider" => &["Months", "Change (%)"],
        "swimmer" => &["Months", "Patient"],
        "forest" => &[
            "Hazard ratio against control",
            "Difference in ORR against control",
        ],
        "exposure" => &["Days", "Concentration (µg/mL)", "Occupancy or effect"],
        _ => &[
            "Days",
            "tumour_volume_mm3: total tumour volume TV + TVd (what imaging measures)",
            "mm3",
            "dTeff: differentiated effector T cells",
            "cells",
            "PDL1: relative PD-L1 expression (0 to 1)",
            "dimensionless",
        ],
    }
}

/// All text of an SVG document, parsed back by an XML parser.
fn svg_text(path: &Path) -> String {
    let source = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&source)
        .unwrap_or_else(|e| panic!("{} is not valid XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_run_draws_every_figure_and_a_self_contained_report() {
    let a = fresh_dir("a");
    let stdout = String::from_utf8(run(&a, &[]).stdout).unwrap();

    // The terminal: one line per arm under a header, then the report's path; nothing else.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1 + ARMS.len() + 1, "{stdout}");
    assert!(
        lines[0].contains("ORR") && lines[0].contains("P(best)"),
        "{stdout}"
    );
    for (line, arm) in lines[1..].iter().zip(ARMS) {
        assert!(line.starts_with(arm), "{line}");
    }
    assert_eq!(
        lines[lines.len() - 1],
        format!("report: {}", a.join("report.html").display())
    );

    for stem in FIGURES {
        let path = a.join("figures").join(format!("{stem}.svg"));
        let text = svg_text(&path);
        for title in axis_titles(stem) {
            assert!(text.contains(title), "{stem} lacks the axis title {title}");
        }
        // Waterfall titles give the ORR to one decimal, as the report's table (298 of 299 had
        // read "ORR 100%").
        if stem == "waterfall" {
            let titles: Vec<&str> = text.lines().filter(|l| l.contains(" — ORR ")).collect();
            assert_eq!(titles.len(), ARMS.len(), "{text}");
            for title in titles {
                let percent = title
                    .split(" — ORR ")
                    .nth(1)
                    .unwrap()
                    .split('%')
                    .next()
                    .unwrap();
                let decimals = percent.split('.').nth(1).map(str::len);
                assert_eq!(decimals, Some(1), "{title}");
            }
        }
        // The figures over time label the time axis's own steps: two years in sixes of months
        // (the spider and swimmer plots had let plotters label them in fives, the last 20).
        if matches!(stem, "km_pfs" | "km_os" | "spider" | "swimmer") {
            let labels: Vec<&str> = text.lines().collect();
            for tick in ["0", "6", "12", "18", "24"] {
                assert!(labels.contains(&tick), "{stem} lacks the tick {tick}");
            }
            // (The others print counts and patient numbers, which may be any of these.)
            for other in ["5", "15", "20"] {
                assert!(
                    stem != "spider" || !labels.contains(&other),
                    "{stem} has a tick {other}"
                );
            }
        }
        // Every arm is named, except the control in the forest plot (its title names it) and
        // the untreated arm in the exposure plot (nothing is given).
        for arm in ARMS {
            let exempt = (stem == "exposure" && arm == "untreated")
                || (stem == "forest"
                    && arm == "nab-paclitaxel"
                    && text.contains("(nab-paclitaxel)"));
            assert!(
                exempt || text.contains(arm),
                "{stem} does not name the arm {arm}"
            );
        }
        // The font is embedded, so the figure looks the same without fonts installed.
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(raw.contains("@font-face") && raw.contains("data:font/ttf;base64,"));
    }
    // The Kaplan–Meier legend gives each arm's hazard ratio against control.
    let km = svg_text(&a.join("figures/km_pfs.svg"));
    assert!(km.contains("pembrolizumab + nab-paclitaxel: median") && km.contains("; HR "));
    assert!(km.contains("nab-paclitaxel: median") && km.contains("; control"));

    // report.html: one file, every figure inline, the summary's numbers, no external URL.
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    for stem in FIGURES {
        assert!(html.contains(&format!("<figure id=\"{stem}\">")), "{stem}");
    }
    assert_eq!(html.matches("<svg").count(), FIGURES.len());
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains(" src=") && !html.contains("<link"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    let start = html.find("id=\"summary-json\">").unwrap() + "id=\"summary-json\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let embedded: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(embedded, summary);
    // The table shows each rounded number with its exact value, as summary.json holds it.
    let exact: Vec<f64> = html
        .split("title=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    for arm in summary["arms"].as_array().unwrap() {
        for number in [
            &arm["orr"]["value"],
            &arm["orr"]["lower"],
            &arm["pfs"]["median_day"]["value"],
            &arm["p_best"],
            &arm["pfs"]["rmst_day"],
        ] {
            let x = number.as_f64().unwrap();
            assert!(
                exact.contains(&x),
                "{x} of {} not in the report",
                arm["arm"]
            );
        }
        assert!(html.contains(arm["arm"].as_str().unwrap()));
    }
    assert!(
        html.contains("pembrolizumab 200 mg"),
        "the schedule table names the doses"
    );
    assert!(html.contains(summary["arms"][0]["arm"].as_str().unwrap()));
    assert!(html.contains("Provenance") && html.contains("20261129"));

    // The same run again: the same figures, byte for byte.
    let b = fresh_dir("b");
    run(&b, &["--quiet"]);
    for stem in FIGURES {
        let f = format!("figures/{stem}.svg");
        assert_eq!(
            std::fs::read(a.join(&f)).unwrap(),
            std::fs::read(b.join(&f)).unwrap(),
            "{f}"
        );
    }

    // `report` rebuilds the figures and the page from the files, without simulating.
    let before = std::fs::read(a.join("report.html")).unwrap();
    std::fs::remove_dir_all(a.join("figures")).unwrap();
    std::fs::remove_file(a.join("report.html")).unwrap();
    let o = bin().arg("report").arg(&a).arg("--png").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(a.join("report.html")).unwrap(), before);
    for stem in FIGURES {
        assert_eq!(
            std::fs::read(a.join(format!("figures/{stem}.svg"))).unwrap(),
            std::fs::read(b.join(format!("figures/{stem}.svg"))).unwrap()
        );
        let png = std::fs::read(a.join(format!("figures/{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
    }

    // --quiet prints nothing; --json prints the summary.
    let o = bin().arg("report").arg(&a).arg("--quiet").output().unwrap();
    assert!(o.status.success() && o.stdout.is_empty());
    let o = bin().arg("report").arg(&a).arg("--json").output().unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed, summary);

    for d in [a, b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Arm names with markup characters are escaped in SVG and HTML; a one-arm trial and a run
/// folder without the sampled assessments or the typical patient still give every figure,
/// saying what is missing.
#[test]
fn awkward_names_one_arm_and_missing_files() {
    let dir = fresh_dir("awkward");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("awkward.toml");
    std::fs::write(
        &scenario,
        r#"name = "Kuznetsov <one arm> & \"quotes\""
horizon_days = 200
[model]
name = "kuznetsov1994"
[[arm]]
name = "A & <b>\"watchful\" waiting</b>"
[cohort]
patients = 12
seed = 5
[cohort.initial]
T = { dist = "lognormal", median = 1e7, cv = 0.3 }
[trial]
assessment_every_days = 28
lethal_volume_ml = 50
"#,
    )
    .unwrap();
    let out = dir.join("out");
    let o = bin()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Lesions of 1e7 cells (10 mm3, 2.7 mm) are below the 5 mm detection limit: the run warns
    // that RECIST cannot evaluate them.
    let warning = String::from_utf8_lossy(&o.stderr);
    assert!(warning.contains("not evaluable by RECIST"), "{warning}");
    let arm = "A & <b>\"watchful\" waiting</b>";
    for stem in FIGURES {
        // Parsed back by an XML parser: the name's characters were escaped.
        let text = svg_text(&out.join("figures").join(format!("{stem}.svg")));
        if !matches!(stem, "forest" | "exposure") {
            assert!(text.contains(arm), "{stem} does not name the arm");
        }
    }
    assert!(svg_text(&out.join("figures/forest.svg")).contains("one arm"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("A &amp; &lt;b&gt;&quot;watchful&quot; waiting&lt;/b&gt;"));
    assert!(!html.contains("<b>\"watchful\""));
    assert!(html.contains("Kuznetsov &lt;one arm&gt; &amp; &quot;quotes&quot;"));
    // Without the sampled assessments and the typical patient, the report still builds and
    // the figures that need them say so.
    std::fs::remove_file(out.join("assessments.csv")).unwrap();
    std::fs::remove_file(out.join("typical_patient.csv")).unwrap();
    let o = bin().arg("report").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(svg_text(&out.join("figures/spider.svg")).contains("assessments.csv is missing"));
    assert!(svg_text(&out.join("figures/mechanism.svg")).contains("typical_patient.csv"));
    // A damaged typical_patient.csv is an error naming the file, not a crash.
    std::fs::write(out.join("typical_patient.csv"), "arm\n").unwrap();
    let o = bin().arg("report").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("typical_patient.csv"));
    let _ = std::fs::remove_dir_all(dir);
}

/// The terminal's hazard ratio is the primary endpoint's: OS when OS is primary (it showed
/// PFS's whatever the primary), PFS otherwise. Header and values: each arm's printed ratio is
/// arms.csv's `hr_os` or `hr_pfs` to two decimals.
#[test]
fn the_terminal_shows_the_primary_endpoints_hazard_ratio() {
    let out = fresh_dir("primary");
    for (primary, header, column) in [
        ("os", "HR OS vs control", "hr_os"),
        ("pfs", "HR PFS vs control", "hr_pfs"),
    ] {
        let o = run(&out, &["--set", &format!("trial.primary={primary}")]);
        let stdout = String::from_utf8(o.stdout).unwrap();
        let first = stdout.lines().next().unwrap_or_default();
        assert!(first.contains(header), "{primary}: {first}");
        let mut arms = csv::Reader::from_path(out.join("arms.csv")).unwrap();
        let at = arms
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == column)
            .unwrap();
        let mut compared = 0;
        for (record, line) in arms.records().zip(stdout.lines().skip(1)) {
            let record = record.unwrap();
            if let Ok(hr) = record[at].parse::<f64>() {
                let shown = format!("{hr:.2} (");
                assert!(line.contains(&shown), "{primary}: {line} lacks {shown}");
                compared += 1;
            }
        }
        assert!(compared >= 4, "{primary}: {compared} arms compared");
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// An arm without a progression is compared by the log-rank test, but its Cox hazard ratio
/// has no finite estimate: the table says "not estimable" (it showed a bare dash beside the
/// log-rank p). Its PFS at 6 months is 100% with no interval, which is undefined there (it
/// read "100.0 (100.0–100.0)", then would have read "NR–NR"). Made by rewriting a real
/// run's patients.csv, which `report` analyses again.
#[test]
fn a_hazard_ratio_without_an_estimate_and_a_rate_of_100_percent_say_so() {
    let dir = fresh_dir("degenerate");
    run(&dir, &["--quiet"]);
    let path = dir.join("patients.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (pfs_day, pfs_event) = (column("pfs_day"), column("pfs_event"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    for r in rows {
        let mut fields: Vec<String> = r.iter().map(str::to_string).collect();
        if fields[0] == "pembrolizumab" && !fields[pfs_day].is_empty() {
            fields[pfs_day] = "730.5".to_string();
            fields[pfs_event] = "0".to_string();
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    let o = bin().arg("report").arg(&dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let row = |table: &str| {
        let start = html.find(table).unwrap();
        let from = start + html[start..].find("<td>pembrolizumab</td>").unwrap();
        html[from..from + html[from..].find("</tr>").unwrap()].to_string()
    };
    let results = row("<h2>Results</h2>");
    assert!(results.contains("not estimable"), "{results}");
    let landmarks = row("<h2>Landmarks and restricted means</h2>");
    let six_months = landmarks.split("<td>").nth(2).unwrap();
    assert!(six_months.contains(">100.0</span></td>"), "{six_months}");
    assert!(!landmarks.contains("NR"), "{landmarks}");
    let _ = std::fs::remove_dir_all(dir);
}

/// An arm without a catalogue drug shows its doses on a timeline, one line per model input and
/// one for radiation: the Kosinsky virtual study gives its antibody as a model input, and its
/// exposure figure had drawn empty concentration axes for the irradiated arms and nothing at
/// all for the antibody alone.
#[test]
fn arms_without_a_catalogue_drug_show_their_doses() {
    let out = fresh_dir("timeline");
    let o = bin()
        .arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/kosinsky2018_virtual_study.toml"))
        .args(["--patients", "20", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = svg_text(&out.join("figures/exposure.svg"));
    assert!(
        text.contains("The doses of each arm") && !text.contains("Concentration"),
        "{text}"
    );
    for arm in [
        "anti-PD-L1 from day 7",
        "RT 5x2 Gy",
        "RT + anti-PD-L1 from day 7",
        "RT + anti-PD-L1 from day 12",
        "RT + anti-PD-L1 from day 19",
    ] {
        assert!(text.contains(&format!("{arm}: doses")), "{arm}: {text}");
    }
    // The untreated control has no row.
    assert!(!text.contains("control: doses"), "{text}");
    let labels: Vec<&str> = text.lines().collect();
    assert_eq!(labels.iter().filter(|l| **l == "anti_pdl1").count(), 4);
    assert_eq!(labels.iter().filter(|l| **l == "radiation").count(), 4);
    // Each dose is one mark: the typical animal's 9 antibody doses in each of four arms and 5
    // fractions in each of four, drawn as short vertical lines in the arms' colours.
    let svg = std::fs::read_to_string(out.join("figures/exposure.svg")).unwrap();
    let marks = svg.matches("stroke-width=\"3\"").count();
    assert_eq!(marks, 4 * 9 + 4 * 5, "{marks} dose marks");
    let _ = std::fs::remove_dir_all(out);
}

/// An arm that gives a catalogue drug and a dose of a model input draws the drug's curves and
/// marks the model input's doses on them (named in the legend), in the colour that input has
/// on the timeline of an arm without a drug.
#[test]
fn model_doses_given_with_a_drug_are_marked_on_its_curves() {
    let out = fresh_dir("mixed");
    std::fs::create_dir_all(&out).unwrap();
    let shipped = std::fs::read_to_string(tnbc()).unwrap();
    let head = &shipped[..shipped.find("[[arm]]").unwrap()];
    let head = head.replace("control = \"nab-paclitaxel\"", "control = \"untreated\"");
    let dose = "[[arm.dose]]\ninput = \"anti_pdl1\"\namount = 10\nstart_day = 5\nevery_days = 30\nrepeat = 4\n";
    let text = format!(
        "{head}[[arm]]\nname = \"untreated\"\n\n[[arm]]\nname = \"pembrolizumab and own antibody\"\n[[arm.drug]]\nname = \"pembrolizumab\"\ndose = \"200 mg\"\nevery_days = 21\ncount = 5\n{dose}[[arm.dose]]\ninput = \"anti_pdl1\"\namount_per_day = 1\nduration_days = 15\nstart_day = 200\n\n[[arm]]\nname = \"own antibody and RT\"\n{dose}[[arm.radiation]]\ndose_per_fraction_gy = 8\nfractions = 3\nstart_day = 14\n\n[[arm]]\nname = \"own antibody infused\"\n[[arm.dose]]\ninput = \"anti_pdl1\"\namount_per_day = 1\nduration_days = 10\nstart_day = 20\n[[arm.dose]]\ninput = \"radiation\"\namount_per_day = 0.5\nduration_days = 20\nstart_day = 100\n"
    );
    let file = out.join("mixed.toml");
    std::fs::write(&file, text).unwrap();
    let o = bin()
        .arg("run")
        .arg(&file)
        .args(["--patients", "10", "--quiet", "--out"])
        .arg(out.join("run"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let path = out.join("run/figures/exposure.svg");
    let text = svg_text(&path);
    assert!(text.contains("anti_pdl1 doses"), "{text}");
    assert!(
        text.contains("own antibody and RT: doses (no drug from the catalogue)"),
        "{text}"
    );
    // The title fits: it names the drug panels only (a longer one ran past the edges).
    assert!(text.contains(
        "Typical patient: plasma concentration (left) and receptor occupancy or cytotoxic effect (right); radiation fractions in rose\n"
    ));
    // The input's colour is the same in both arms: its four dashed lines on the drug's curves
    // and its four marks on the timeline.
    let svg = std::fs::read_to_string(&path).unwrap();
    let marks = svg.matches("stroke=\"#999933\" stroke-width=\"3\"").count();
    let dashes = svg.matches("stroke=\"#999933\" stroke-width=\"2\"").count();
    assert_eq!(marks, 4, "timeline marks");
    // The ten-day infusion of the third arm is a bar over its days (20 to 30), not a mark at
    // its start. The scale comes from the timeline's marks of days 5 and 95; positions are
    // whole pixels, so within 1.5 pixels (two roundings).
    // A number attribute of an SVG element's text.
    let number = |element: &str, name: &str| -> f64 {
        let rest = &element[element.find(&format!(" {name}=\"")).unwrap() + name.len() + 3..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    };
    let mark_x: Vec<f64> = svg
        .split("<polyline")
        .filter(|p| p.contains("stroke=\"#999933\" stroke-width=\"3\""))
        .map(|p| {
            let points = &p[p.find("points=\"").unwrap() + 8..];
            points[..points.find(',').unwrap()].parse().unwrap()
        })
        .collect();
    let pixels_per_day = (mark_x[3] - mark_x[0]) / 90.0;
    // The one bar filled with `colour`: its x and width in pixels.
    let bar = |colour: &str| -> (f64, f64) {
        let bars: Vec<&str> = svg
            .split("<rect")
            .skip(1)
            .filter(|r| r.contains(&format!("opacity=\"1\" fill=\"{colour}\"")))
            .collect();
        assert_eq!(bars.len(), 1, "{colour}: {bars:?}");
        (number(bars[0], "x"), number(bars[0], "width"))
    };
    let (x, width) = bar("#999933");
    assert!(
        (x - (mark_x[0] + 15.0 * pixels_per_day)).abs() <= 1.5
            && (width - 10.0 * pixels_per_day).abs() <= 1.5,
        "bar at {x}, {width} wide; {pixels_per_day} pixels a day from {mark_x:?}"
    );
    // Radiation given at a rate for 20 days, from day 100, is a bar in radiation's colour.
    let (x, width) = bar("#CC6677");
    assert!(
        (x - (mark_x[0] + 95.0 * pixels_per_day)).abs() <= 1.5
            && (width - 20.0 * pixels_per_day).abs() <= 1.5,
        "radiation bar at {x}, {width} wide"
    );
    // Four dashed lines of several dashes each, and the legend's sample.
    assert!(dashes > 4 * 4, "{dashes} dashes");
    // The dashed lines stand on both panels, concentration and occupancy: eight places
    // across, each a vertical run of dashes (the legend's sample is horizontal).
    let mut dash_x: Vec<i64> = svg
        .split("<polyline")
        .filter(|p| p.contains("stroke=\"#999933\" stroke-width=\"2\""))
        .filter_map(|p| {
            let points = &p[p.find("points=\"").unwrap() + 8..];
            let points = &points[..points.find('"').unwrap()];
            let xy: Vec<(i64, i64)> = points
                .split_whitespace()
                .map(|pair| {
                    let (x, y) = pair.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            (xy[0].0 == xy[1].0 && xy[0].1 != xy[1].1).then_some(xy[0].0)
        })
        .collect();
    dash_x.sort_unstable();
    dash_x.dedup();
    assert_eq!(dash_x.len(), 10, "dashed lines at x {dash_x:?}");
    // The 15-day infusion from day 200 is also a light band under its days on both panels:
    // from its dashed line, 15 days wide on that panel's scale (its doses of days 5 and 95).
    let bands: Vec<(f64, f64)> = svg
        .split("<rect")
        .skip(1)
        .filter(|r| r.contains("opacity=\"0.15\" fill=\"#999933\""))
        .map(|r| (number(r, "x"), number(r, "width")))
        .collect();
    assert_eq!(bands.len(), 2, "{bands:?}");
    for (panel, &(x, width)) in [&dash_x[..5], &dash_x[5..]].iter().zip(&bands) {
        let pixels_per_day = (panel[3] - panel[0]) as f64 / 90.0;
        assert!(
            x == panel[4] as f64 && (width - 15.0 * pixels_per_day).abs() <= 1.5,
            "band at {x}, {width} wide, on a panel with doses at {panel:?}"
        );
    }
    let _ = std::fs::remove_dir_all(out);
}
