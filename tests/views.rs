//! The views worker's store, fed the way the app feeds it (one position's rows at a time, as the
//! model reads) and asked what the page asks: its maps match transformers' attention, a query
//! waits for positions not yet arrived, a newer run retires the older's queries, and the shading,
//! roles and exports agree with the analyses computed straight from a capture.

mod common;

use std::path::PathBuf;

use headlight::Checkpoint;
use headlight::analysis::aggregate::{Source, shown};
use headlight::analysis::roles::roles_of;
use headlight::capture::Capture;
use headlight::session::Session;
use headlight::view::colour::Scale;
use headlight::view::state::{Direction, Mode, ViewState};
use headlight::view::stream::token_weights;
use headlight::views::query::{Look, MapsQuery, Query, Reply, Slot};
use headlight::views::store::Store;

fn mini() -> Checkpoint {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("public/models/mini");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    Checkpoint::from_bytes(&read("config.json"), read("model.safetensors"), &read("tokenizer.json")).unwrap()
}

fn fixture() -> common::Fixture {
    serde_json::from_slice(&std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini.json")).unwrap()).unwrap()
}

/// Every position's rows and value norms of `ids`, in the order the worker sends them.
fn positions(checkpoint: &Checkpoint, ids: &[u32]) -> Vec<(Vec<f32>, Vec<f32>)> {
    let mut session = Session::open(&checkpoint.model, ids, false).unwrap();
    let mut out = Vec::new();
    while let Some(pass) = session.read_prompt(&checkpoint.model) {
        for i in 0..pass.positions() {
            let (rows, norms) = pass.position(i);
            out.push((rows.to_vec(), norms.to_vec()));
        }
    }
    out
}

fn begin(store: &mut Store, checkpoint: &Checkpoint, slot: Slot, run: u32, ids: &[u32]) {
    let c = checkpoint.config();
    store.begin(slot, run, Capture::new(c.n_layer, c.n_head), ids.len(), checkpoint.tokenizer.tokens(ids));
}

fn look(mode: Mode, layer: usize, head: usize) -> Look {
    Look::of(&ViewState { mode, layer, head, ..ViewState::default() }, 0)
}

/// `(query, key, weight)` of every exact cell a map's markup lists (`data-cells`), once its
/// paths are seen to draw as many cells as it lists.
fn exact_cells(markup: &str) -> Vec<(usize, usize, f32)> {
    let text = format!(r#"<svg xmlns="http://www.w3.org/2000/svg">{markup}</svg>"#);
    let document = roxmltree::Document::parse(&text).unwrap();
    let drawn: usize = document.descendants().filter(|n| n.has_tag_name("path")).map(|n| n.attribute("d").unwrap().matches('M').count()).sum();
    let listed: Vec<&str> = document.descendants().find_map(|n| n.attribute("data-cells")).unwrap().split(' ').filter(|c| !c.is_empty()).collect();
    assert_eq!(drawn, listed.len(), "a cell drawn for each one listed");
    let cell = |c: &str| {
        let mut fields = c.split(',');
        Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
    };
    listed.into_iter().filter_map(cell).collect()
}

#[test]
fn maps_answered_from_streamed_rows_match_transformers() {
    let checkpoint = mini();
    let fixture = fixture();
    let case = fixture.cases.iter().max_by_key(|c| c.ids.len()).unwrap(); // 76 tokens: a window of the last 48
    let rows = positions(&checkpoint, &case.ids);
    let n = case.ids.len();
    let mut store = Store::default();
    let (layer, head) = (2, 1);
    let query = Query::Maps(MapsQuery { run: 1, n, extent: n, look: look(Mode::Head, layer, head), compare: None });
    assert!(store.answer(&query).is_none(), "no run has begun");
    begin(&mut store, &checkpoint, Slot::Main, 1, &case.ids);
    for (position, (weights, norms)) in rows.iter().enumerate() {
        assert!(store.answer(&query).is_none(), "{position} of {n} positions arrived: the query waits");
        store.add(Slot::Main, 1, position, weights, norms, None);
    }
    let Some(Ok(Reply::Maps(set))) = store.answer(&query) else { panic!("the maps are answered once every position is in") };
    let cells = exact_cells(set.maps[0].cells.as_str());
    assert_eq!(cells.len(), 48 * 49 / 2, "the last 48 positions, lower triangle");
    let read = set.maps[0].map.cells().map(|c| (c.query.start, c.key.start, c.value)).collect::<Vec<_>>();
    assert_eq!(read, cells, "the page reads under the pointer what the markup draws");
    for (q, k, value) in cells {
        let want = case.attentions[layer][head][q][k];
        assert!((value - want).abs() <= common::ATTENTION_TOLERANCE, "L{layer} H{head} [{q}][{k}]: {value} vs transformers {want}");
    }
    assert!(set.minimap.is_some(), "a window of a longer pattern comes with its minimap");
    assert_eq!(set.labels[0].len(), n);
}

#[test]
fn a_newer_run_retires_the_older_runs_queries_and_late_rows() {
    let checkpoint = mini();
    let ids = checkpoint.tokenizer.encode("The quick brown fox jumps over the lazy dog").unwrap();
    let rows = positions(&checkpoint, &ids);
    let mut store = Store::default();
    begin(&mut store, &checkpoint, Slot::Main, 1, &ids);
    store.add(Slot::Main, 1, 0, &rows[0].0, &rows[0].1, None);
    let old = Query::Roles { run: 1, n: ids.len() };
    assert!(store.answer(&old).is_none());
    begin(&mut store, &checkpoint, Slot::Main, 2, &ids);
    assert!(matches!(store.answer(&old), Some(Err(_))), "run 1's question is dropped once run 2 begins");
    // a row of the retired run, or out of order, is ignored
    store.add(Slot::Main, 1, 0, &rows[0].0, &rows[0].1, None);
    store.add(Slot::Main, 2, 1, &rows[1].0, &rows[1].1, None);
    assert!(store.answer(&Query::Roles { run: 2, n: 1 }).is_none());
    for (position, (weights, norms)) in rows.iter().enumerate() {
        store.add(Slot::Main, 2, position, weights, norms, None);
    }
    assert!(matches!(store.answer(&Query::Roles { run: 2, n: ids.len() }), Some(Ok(Reply::Roles(_)))));
}

#[test]
fn shading_roles_and_export_agree_with_the_capture() {
    let checkpoint = mini();
    let ids = checkpoint.tokenizer.encode("The quick brown fox jumps over the lazy dog. The quick brown fox").unwrap();
    let n = ids.len();
    let rows = positions(&checkpoint, &ids);
    let mut store = Store::default();
    let mut capture = Capture::new(checkpoint.config().n_layer, checkpoint.config().n_head);
    begin(&mut store, &checkpoint, Slot::Main, 7, &ids);
    for (position, (weights, norms)) in rows.iter().enumerate() {
        store.add(Slot::Main, 7, position, weights, norms, None);
        capture.append_position(weights, norms);
    }
    for source in [Source::Head, Source::Rollout, Source::LayerMean] {
        let look = Look { source, hide_sink: true, ..look(Mode::Head, 4, 4) };
        for (focus, direction) in [(n - 1, Direction::AttendsTo), (3, Direction::AttendedBy)] {
            let Some(Ok(Reply::Shade(weights))) = store.answer(&Query::Shade { run: 7, n, look: look.clone(), focus, direction }) else { panic!() };
            assert_eq!(weights, token_weights(&shown(&capture, source, true, 4, 4, n).unwrap(), n, focus, direction), "{source:?}");
        }
    }
    let Some(Ok(Reply::Roles(roles))) = store.answer(&Query::Roles { run: 7, n }) else { panic!() };
    assert_eq!(roles, roles_of(&capture, &ids));
    let maps = MapsQuery { run: 7, n, extent: n, look: Look { scale: Scale::Clipped { percentile: 99 }, ..look(Mode::Block, 5, 0) }, compare: None };
    let Some(Ok(Reply::Maps(set))) = store.answer(&Query::Maps(maps.clone())) else { panic!() };
    assert_eq!(set.maps.len(), checkpoint.config().n_head, "a map per head of the layer");
    let Some(Ok(Reply::Export { svg, name })) = store.answer(&Query::Export { maps, png: false }) else { panic!() };
    assert_eq!(name, "headlight-block-L5-H0");
    let document = roxmltree::Document::parse(&svg).unwrap();
    let drawn: usize = document.descendants().filter(|n| n.attribute("class") == Some("cell")).map(|n| n.attribute("d").unwrap().matches('M').count()).sum();
    assert_eq!(drawn, set.maps.iter().map(|m| exact_cells(m.cells.as_str()).len()).sum::<usize>(), "the export draws the cells the screen draws");
    assert!(set.maps.iter().all(|m| svg.contains(m.cells.as_str())), "in the screen's own markup");
}

#[test]
fn the_ablation_panel_compares_two_captures_of_the_same_ids() {
    let checkpoint = mini();
    let ids = checkpoint.tokenizer.encode("alpha beta gamma alpha beta gamma").unwrap();
    let n = ids.len();
    let rows = positions(&checkpoint, &ids);
    let mut store = Store::default();
    begin(&mut store, &checkpoint, Slot::Main, 3, &ids);
    begin(&mut store, &checkpoint, Slot::Ablated, 9, &ids);
    let query = Query::Ablation { run: 3, ablated: 9, n, look: look(Mode::Head, 1, 2) };
    for (position, (weights, norms)) in rows.iter().enumerate() {
        store.add(Slot::Main, 3, position, weights, norms, None);
        // the "ablated" run: every weight of layer 1 onwards moved towards the first key
        let shifted: Vec<f32> = weights.iter().map(|w| w * 0.5).collect();
        assert!(store.answer(&query).is_none());
        store.add(Slot::Ablated, 9, position, &shifted, norms, None);
    }
    let Some(Ok(Reply::Ablation(model))) = store.answer(&query) else { panic!() };
    assert_eq!(model.maps.maps.iter().map(|m| m.role.as_str()).collect::<Vec<_>>(), ["intact", "ablated"]);
    assert_eq!(model.changes.len(), checkpoint.config().n_layer);
    // halving every weight changes each layer by half its largest weight: 0.5 (the first row is 1)
    assert!(model.changes.iter().all(|&c| (c - 0.5).abs() < 1e-6), "{:?}", model.changes);
}
