//! The app's exports: a run the page showed, replayed from its prompt and generated ids, is
//! recorded exactly as the CLI's `inspect --json` records the same run; the SVG of its maps is
//! well-formed XML whatever characters the prompt holds.

use headlight::Checkpoint;
use headlight::inspect::{Request, inspect, replay};
use headlight::model::generate::{Decoding, SamplingSettings};
use headlight::session::Stop;
use headlight::analysis::pattern::Pattern;
use headlight::tokenizer::Tokenizer;
use headlight::view::colour::{Normaliser, Scale};
use headlight::view::export::{Tile, document};
use headlight::view::heatmap::{Layout, MapRequest, heatmap};

fn bundled() -> Checkpoint {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public/models/mini/");
    let read = |f: &str| std::fs::read(format!("{dir}{f}")).unwrap();
    Checkpoint::from_bytes(&read("config.json"), read("model.safetensors"), &read("tokenizer.json")).unwrap()
}

#[test]
fn a_replayed_run_is_recorded_as_inspect_records_it() {
    let checkpoint = bundled();
    let decoding = Decoding::Sample(SamplingSettings { temperature: 0.9, top_k: 40, top_p: 0.95, seed: 7 });
    let request = Request { prompt: "The quick brown fox".into(), generate: 6, decoding, steps: true };
    let inspected = inspect(&checkpoint, "mini", &request).unwrap();
    let generated = inspected.generated.clone().unwrap();
    let replayed = replay(&checkpoint, "mini", &request.prompt, &generated, decoding).unwrap();
    assert_eq!(replayed, inspected);
    assert_eq!(replayed.steps.as_ref().unwrap().len(), generated.len());
}

#[test]
fn a_prompt_alone_has_no_generation_fields() {
    let checkpoint = bundled();
    let replayed = replay(&checkpoint, "mini", "Hello there", &[], Decoding::Greedy).unwrap();
    let inspected = inspect(&checkpoint, "mini", &Request { prompt: "Hello there".into(), generate: 0, decoding: Decoding::Greedy, steps: false }).unwrap();
    assert_eq!((replayed.generated.as_ref(), replayed.stop, replayed.decoding), (None, None, None));
    assert_eq!(replayed.steps, Some(Vec::new()), "steps are asked for, and there are none");
    assert_eq!(replayed.attentions, inspected.attentions);
    // a run that the model ended says so
    let ended = replay(&checkpoint, "mini", "Hello", &[50256], Decoding::Greedy).unwrap();
    assert_eq!(ended.stop, Some(Stop::EndOfText));
    // ids the model cannot read are refused with a reason, not a panic
    assert!(replay(&checkpoint, "mini", "Hello", &[99_999_999], Decoding::Greedy).is_err());
}

#[test]
fn the_svg_parses_as_xml_for_every_hidden_character_prompt() {
    // GPT-2's vocabulary splits U+FFFE and U+FFFF into bytes (shown as hex); a tokenizer that
    // adds them as tokens of their own puts them whole in the labels
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/models/bf16/tokenizer.json")).unwrap()).unwrap();
    let added = |id: u32, content: &str| serde_json::json!({"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false});
    json["added_tokens"].as_array_mut().unwrap().extend([added(50257, "\u{FFFE}"), added(50258, "\u{FFFF}")]);
    let tokenizer = Tokenizer::from_bytes(&serde_json::to_vec(&json).unwrap()).unwrap();
    let every_control: String = ('\u{0}'..='\u{9f}').filter(|c| c.is_control()).collect();
    let prompts = [
        every_control.as_str(),
        "non\u{FFFE}characters\u{FFFF} \u{FDD0} \u{1FFFE}",
        "bidi \u{202E}exe.txt\u{202C} \u{2066}isolate\u{2069} \u{200F}",
        "zero\u{200B}width\u{FEFF} line\u{2028}para\u{2029}",
        "\u{1b}]0;title\u{7}\u{1b}[2J markup <a href='x'>&amp;</a>",
    ];
    for prompt in prompts {
        let ids = tokenizer.encode(prompt).unwrap();
        let labels: Vec<String> = tokenizer.tokens(&ids).into_iter().map(|t| t.label).collect();
        let n = labels.len();
        let pattern = Pattern::from_rows((0..n).map(|q| vec![1.0 / (q + 1) as f32; q + 1]).collect());
        let norm = Normaliser::fit(Scale::Linear, []);
        let request = MapRequest { layer: 0, head: 0, extent: n, labels: &labels, row: Some(n - 1), column: Some(0), pan: None, layout: Layout::Detailed };
        let map = heatmap(&pattern, &request, &norm);
        assert!(!prompt.contains('\u{FFFE}') || labels.iter().any(|l| l.contains('\u{FFFE}')), "{labels:?}");
        // the prompt itself in the caption: text that skipped the labels' marks
        let svg = document(&[Tile { map: &map, caption: prompt }], 1, &[norm]);
        let parsed = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{prompt:?}: {e}"));
        // what XML allows comes through as itself, the rest as its code point
        let caption = parsed.descendants().find(|node| node.attribute("class") == Some("caption")).and_then(|node| node.text()).unwrap();
        for c in prompt.chars().filter(|c| !matches!(c, '\r' | '\n')) {
            let xml = c >= ' ' || c == '\t';
            let shown = if xml && !matches!(c, '\u{FFFE}' | '\u{FFFF}') { c.to_string() } else { format!("⟨U+{:04X}⟩", c as u32) };
            assert!(caption.contains(&shown), "{prompt:?}: {c:?} is not in the caption {caption:?}");
        }
        let listed = parsed.descendants().find_map(|node| node.attribute("data-cells")).unwrap();
        assert_eq!(listed.split(' ').count(), map.cells().count(), "{prompt:?}: every cell listed");
    }
}
