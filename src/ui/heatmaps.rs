//! The maps panel: one head in detail, a layer's heads side by side, one head index down the
//! layers, every head as a thumbnail, the line view, the position encodings, or a comparison
//! of two prompts. The views worker computes what each mode shows from the view's query; this
//! asks and draws.

use std::rc::Rc;

use leptos::prelude::*;

use crate::ui::analysis::source_controls;
use crate::ui::compare::{CompareBar, watch_compare};
use crate::ui::lines::line_view;
use crate::ui::map::{Click, draw, legend};
use crate::ui::pan::pan_controls;
use crate::ui::positions::positions_view;
use crate::ui::state::{Ctx, ModelStatus, now};
use crate::view::colour::Scale;
use crate::view::state::{Mode, ViewStateStoreFields};
use crate::views::query::{MapsModel, MapsQuery, Query, Reply};

/// The maps query of the view shown, once the run has positions to show.
fn maps_query(ctx: Ctx) -> Option<MapsQuery> {
    let n = ctx.visible();
    let context = ctx.model.with(|m| if let ModelStatus::Ready(info) = m { info.n_positions } else { usize::MAX });
    let look = ctx.look(n);
    let (run, extent) = ctx.run.with(|r| {
        let r = r.as_ref()?;
        // While the run streams, the maps are laid out for its final length: they keep their size.
        Some((r.id, if r.running() { (r.prompt_len + r.wanted).min(context) } else { r.tokens.len() }))
    })?;
    let compare = if look.mode == Mode::Compare && ctx.view.compare().with(|c| !c.is_empty()) { ctx.compare.with(|c| c.as_ref().map(|c| (c.id, c.read))) } else { None };
    (n > 0).then_some(MapsQuery { run, n, extent, look, compare })
}

/// The maps of a heatmap mode, drawn from the views worker's reply to `query`.
fn heatmap_maps(ctx: Ctx, query: &MapsQuery, model: MapsModel) -> AnyView {
    let mode = query.look.mode;
    let click = match mode {
        Mode::Block | Mode::Layer => Click::SelectOrOpen,
        Mode::Overview => Click::Open,
        _ => Click::Select,
    };
    let MapsModel { maps, labels, norms, columns, units, len, note, minimap } = model;
    let legends = norms.iter().zip(["scale-main", "scale-difference"]).map(|(&norm, id)| legend(norm, id)).collect_view();
    let pan = minimap.map(|minimap| pan_controls(ctx, query, &maps[0].map, minimap, len));
    let labels: Vec<Rc<Vec<String>>> = labels.into_iter().map(Rc::new).collect();
    let drawn = maps.into_iter().map(|model| {
        let labels = labels[model.labels].clone();
        draw(model, labels, &units, ctx, click)
    }).collect_view();
    let grid_style = if mode == Mode::Overview { format!("--columns: {columns}") } else { String::new() };
    view! {
        <div class="legends">{legends}</div>
        {pan}
        <div class=format!("maps mode-{}", mode.name()) style=grid_style>{drawn}</div>
        {note.map(|note| view! { <p class="hint">{note}</p> })}
    }
    .into_any()
}

/// Saves what the panel shows: `svg` or `png` of the maps (drawn by the views worker), `json`
/// of the capture.
fn export_maps(ctx: Ctx, format: &str, query: Memo<Option<MapsQuery>>) {
    if format == "json" {
        return ctx.export_json();
    }
    if let Some(maps) = query.get_untracked() {
        ctx.views.ask(Query::Export { maps, png: format == "png" }, true);
    }
}

/// Once the finished run's whole maps are on screen, records how long the user waited for them.
fn time_the_wait(ctx: Ctx) {
    Effect::new(move |_| {
        let shown = ctx.views.maps.with(|reply| match reply {
            Some((Query::Maps(q), Ok(_))) => Some((q.run, q.n)),
            _ => None,
        });
        let Some((id, n)) = shown else { return };
        let waiting = ctx.run.with_untracked(|r| r.as_ref().is_some_and(|r| r.id == id && !r.running() && r.waited.is_none() && n == r.tokens.len()));
        if waiting {
            // the next frame shows them
            request_animation_frame(move || {
                let waited = now();
                ctx.run.update(|r| {
                    if let Some(r) = r.as_mut().filter(|r| r.id == id && r.waited.is_none()) {
                        r.waited = Some(waited - r.started);
                    }
                });
            });
        }
    });
}

/// A drop-down of the indices `0..count()`.
fn index_select(count: impl Fn() -> usize + Copy + Send + Sync + 'static, value: impl Fn() -> usize + Copy + Send + Sync + 'static, pick: impl Fn(usize) + Copy + 'static) -> impl IntoView {
    view! {
        <select on:change=move |ev| {
            if let Ok(i) = event_target_value(&ev).parse() {
                pick(i);
            }
        }>
            {move || (0..count()).map(|i| view! { <option value=i.to_string() selected=move || value() == i>{i}</option> }).collect_view()}
        </select>
    }
}

#[component]
pub fn Heatmaps(ctx: Ctx) -> impl IntoView {
    watch_compare(ctx);
    time_the_wait(ctx);
    let query = Memo::new(move |_| maps_query(ctx));
    let mode = Memo::new(move |_| ctx.view.mode().get());
    Effect::new(move |_| {
        if let Some(query) = query.get().filter(|q| !matches!(q.look.mode, Mode::Lines | Mode::Positions)) {
            ctx.views.ask(Query::Maps(query), false);
        }
    });
    let has_run = Memo::new(move |_| ctx.run.with(Option::is_some));
    let has_positions = Memo::new(move |_| ctx.visible() > 0);
    // Drawn from the reply and its own query (not the view now, which may be a step ahead).
    let maps = move || match mode.get() {
        Mode::Positions => positions_view(ctx).into_any(),
        _ if !has_run.get() => view! { <p class="empty">"Run a prompt to see its attention."</p> }.into_any(),
        _ if !has_positions.get() => view! { <p class="empty">"Reading the prompt…"</p> }.into_any(),
        Mode::Lines => line_view(ctx).into_any(),
        _ => ctx.views.maps.get().map_or_else(
            || view! { <p class="empty">"Drawing the maps…"</p> }.into_any(),
            |(query, reply)| match (query, reply) {
                (Query::Maps(query), Ok(Reply::Maps(model))) => heatmap_maps(ctx, &query, model),
                (_, Err(why)) => view! { <p class="empty">{why}</p> }.into_any(),
                _ => ().into_any(),
            },
        ),
    };
    // Said to assistive technology (and to the tests) while the maps wait for the views worker.
    let busy = move || {
        let waiting = match mode.get() {
            Mode::Positions => false,
            Mode::Lines => !ctx.views.lines.current(),
            _ => !ctx.views.maps.current(),
        };
        if waiting && has_positions.get() { "true" } else { "false" }
    };
    let scale_value = move || match ctx.view.scale().get() {
        Scale::Linear => "lin".to_string(),
        Scale::Log => "log".to_string(),
        Scale::Clipped { percentile } => format!("p{percentile}"),
    };
    let set_scale = move |ev| {
        let scale = match event_target_value(&ev).as_str() {
            "log" => Scale::Log,
            "p99" => Scale::Clipped { percentile: 99 },
            "p90" => Scale::Clipped { percentile: 90 },
            _ => Scale::Linear,
        };
        ctx.edit(|v| v.scale = scale);
    };
    let dims = move || ctx.model.with(|m| match m {
        ModelStatus::Ready(info) => (info.n_layer, info.n_head),
        _ => (1, 1),
    });
    let tabs = Mode::ALL
        .into_iter()
        .map(|mode| {
            view! {
                <button
                    role="tab"
                    class="tab"
                    data-mode=mode.name()
                    aria-selected=move || if ctx.view.mode().get() == mode { "true" } else { "false" }
                    on:click=move |_| ctx.edit(|v| v.mode = mode)
                >
                    {mode.title()}
                </button>
            }
        })
        .collect_view();
    let drawing = move || matches!(ctx.view.mode().get(), Mode::Lines | Mode::Positions);
    view! {
        <section class="maps-panel" aria-label="Attention heatmaps">
            <div class="panel-head">
                <div class="tabs" role="tablist">{tabs}</div>
            </div>
            <div class="panel-head">
                <label>"Layer " {index_select(move || dims().0, move || ctx.view.layer().get(), move |i| ctx.edit(|v| v.layer = i))}</label>
                <label>"Head " {index_select(move || dims().1, move || ctx.view.head().get(), move |i| ctx.edit(|v| v.head = i))}</label>
                {source_controls(ctx)}
                <label>"Scale "
                    <select prop:value=scale_value on:change=set_scale>
                        <option value="lin">"linear"</option>
                        <option value="log">"log"</option>
                        <option value="p99">"clip at 99th pct"</option>
                        <option value="p90">"clip at 90th pct"</option>
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" id="word-view" prop:checked=move || ctx.view.words().get() on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.edit(|v| v.words = on);
                    } />
                    " Words"
                </label>
                <span class="export" role="group" aria-label="Export">
                    "Export "
                    <button id="export-svg" prop:disabled=drawing title="The maps shown, as SVG" on:click=move |_| export_maps(ctx, "svg", query)>"SVG"</button>
                    <button id="export-png" prop:disabled=drawing title="The maps shown, as PNG" on:click=move |_| export_maps(ctx, "png", query)>"PNG"</button>
                    <button id="export-json" title="The capture, in the CLI's inspect --json schema" on:click=move |_| export_maps(ctx, "json", query)>"JSON"</button>
                </span>
            </div>
            <CompareBar ctx />
            <div class="maps-area" aria-busy=busy>{maps}</div>
        </section>
    }
}
