//! Head roles: every head's scores as a layer x head map coloured by its strongest role, a
//! table sortable by any score, and the repeat test. Clicking a head opens its heatmap.

use leptos::prelude::*;

use crate::analysis::aggregate::Source;
use crate::analysis::probe::{Answer, Question};
use crate::analysis::repeat::Pool;
use crate::analysis::roles::{HeadRoles, Role, SortBy, sort};
use crate::ui::analysis::waiting;
use crate::ui::state::{Ctx, ModelStatus};
use crate::view::state::{Mode, ViewStateStoreFields};
use crate::views::query::{Query, Reply};

/// Random tokens in each half of the repeat test.
const REPEAT_HALF: usize = 50;
const REPEAT_SEED: u64 = 1;

/// A colour per role (Okabe & Ito's palette, told apart under colour-vision deficiencies).
fn colour(role: Role) -> &'static str {
    match role {
        Role::Previous => "#0072b2",
        Role::First => "#e69f00",
        Role::Current => "#009e73",
        Role::Duplicate => "#cc79a7",
        Role::Induction => "#d55e00",
    }
}

/// What a role's score measures, and where the detector comes from: the column headers'
/// tooltips and the legend.
fn definition(role: Role) -> &'static str {
    match role {
        Role::Previous => "previous: share of attention on the token just before (key = query − 1); TransformerLens's previous_token_head detector",
        Role::First => "first: share of attention on the first token, the attention sink (Xiao et al. 2023, \"Efficient Streaming Language Models with Attention Sinks\")",
        Role::Current => "current: share of attention on the token itself (key = query)",
        Role::Duplicate => "duplicate: share of attention on earlier copies of the same token, over the queries that have one; TransformerLens's duplicate_token_head detector",
        Role::Induction => "induction: share of attention on the token after an earlier copy of the same token, over the queries that have one (Olsson et al. 2022, \"In-context Learning and Induction Heads\"; TransformerLens's induction_head detector)",
    }
}

const ENTROPY: &str = "entropy: mean entropy of the head's attention rows in bits over queries 1.. (0 = always one token; log2(q + 1) = spread evenly over all it sees)";

fn open_head(ctx: Ctx, layer: usize, head: usize) {
    ctx.edit(|v| {
        v.mode = Mode::Head;
        v.source = Source::Head;
        v.layer = layer;
        v.head = head;
    });
}

fn score_text(score: Option<f32>) -> String {
    score.map_or("–".into(), |s| format!("{s:.2}"))
}

/// The layer x head map: each cell the head's strongest role, its colour's strength the score.
fn role_map(ctx: Ctx, roles: &[HeadRoles], n_head: usize, id: &'static str) -> impl IntoView + use<> {
    let cells = roles
        .iter()
        .map(|r| {
            let (layer, head) = (r.layer, r.head);
            let strongest = r.strongest();
            let (name, style) = match strongest {
                Some((role, score)) => (role.name(), format!("background: color-mix(in srgb, {} {:.0}%, white)", colour(role), 15.0 + 85.0 * score)),
                None => ("none", String::new()),
            };
            let label = format!("L{layer} H{head}: {name} {}", score_text(strongest.map(|s| s.1)));
            view! {
                <button class="role-cell" style=style data-layer=layer data-head=head data-role=name title=label on:click=move |_| open_head(ctx, layer, head)>
                    <span class="role-head">{format!("L{layer} H{head}")}</span>
                    <span class="role-name">{name}</span>
                    <span class="role-score">{score_text(strongest.map(|s| s.1))}</span>
                </button>
            }
        })
        .collect_view();
    let legend = Role::ALL.into_iter().map(|r| view! { <span class="role-key" title=definition(r)><i style=format!("background: {}", colour(r))></i>{r.name()}</span> }).collect_view();
    view! {
        <div class="role-legend">{legend}</div>
        <div class="role-map" id=id style=format!("--columns: {n_head}")>{cells}</div>
    }
}

/// The sortable table of every score.
fn role_table(ctx: Ctx, mut roles: Vec<HeadRoles>, by: SortBy) -> impl IntoView + use<> {
    sort(&mut roles, by);
    let header = |title: &'static str, key: SortBy, meaning: &'static str| {
        let sorted = by == key;
        view! {
            <th aria-sort=if sorted { "descending" } else { "none" }>
                <button class="sort" class:sorted=sorted data-sort=key.name() title=meaning on:click=move |_| ctx.edit(|v| v.sort = key)>{title}</button>
            </th>
        }
    };
    let rows = roles
        .iter()
        .map(|r| {
            let (layer, head) = (r.layer, r.head);
            let scores = Role::ALL
                .iter()
                .map(|&role| {
                    let s = r.score(role);
                    let bar = format!("--s: {:.3}; --c: {}", s.unwrap_or(0.0), colour(role));
                    view! { <td class="score" style=bar>{score_text(s)}</td> }
                })
                .collect_view();
            view! {
                <tr data-layer=layer data-head=head>
                    <td><button class="link" on:click=move |_| open_head(ctx, layer, head)>{format!("L{layer} H{head}")}</button></td>
                    <td>{r.entropy.map_or("–".into(), |e| format!("{e:.2}"))}</td>
                    {scores}
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="roles" id="role-table">
            <thead>
                <tr>
                    {header("head", SortBy::Position, "layer and head; sort by position")}
                    {header("entropy (bits)", SortBy::Entropy, ENTROPY)}
                    {Role::ALL.map(|r| header(r.name(), SortBy::Role(r), definition(r))).into_iter().collect_view()}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The heads with the highest induction score on the repeat test, in words.
fn repeat_summary(roles: &[HeadRoles]) -> String {
    let mut ranked = roles.to_vec();
    sort(&mut ranked, SortBy::Role(Role::Induction));
    let top: Vec<String> = ranked.iter().take(3).map(|r| format!("L{} H{} ({})", r.layer, r.head, score_text(r.score(Role::Induction)))).collect();
    format!("Highest induction scores: {}.", top.join(", "))
}

/// The repeat test's question and the ids it is asked about: the prompt's, for its pool.
fn repeat_question(ctx: Ctx, pool: Pool) -> (Vec<u32>, Question) {
    let ids = match pool {
        Pool::Vocabulary => Vec::new(),
        Pool::Prompt => ctx.run.with(|r| r.as_ref().map_or(Vec::new(), |r| r.ids(r.prompt_len))),
    };
    (ids, Question::RepeatTest { half: REPEAT_HALF, seed: REPEAT_SEED, pool })
}

pub fn roles_panel(ctx: Ctx) -> impl IntoView {
    let repeat = RwSignal::new(false);
    let pool = Memo::new(move |_| ctx.view.pool().get());
    Effect::new(move |_| {
        if repeat.get() {
            let (ids, question) = repeat_question(ctx, pool.get());
            ctx.ask(ids, question);
        }
    });
    let sort = Memo::new(move |_| ctx.view.sort().get());
    // The views worker scores the heads over the positions shown, once per run and step.
    let query = Memo::new(move |_| {
        let n = ctx.visible();
        let run = ctx.run.with(|r| r.as_ref().map(|r| r.id))?;
        (n > 0).then_some(Query::Roles { run, n })
    });
    Effect::new(move |_| {
        if let Some(query) = query.get() {
            ctx.views.ask(query, false);
        }
    });
    let n_head = move || ctx.model.with(|m| if let ModelStatus::Ready(info) = m { info.n_head } else { 1 });
    let current = move || {
        let by = sort.get();
        match ctx.views.roles.get() {
            Some((_, Ok(Reply::Roles(roles)))) if query.get().is_some() => view! {
                {role_map(ctx, &roles, n_head(), "role-map")}
                {role_table(ctx, roles, by)}
            }
            .into_any(),
            Some((_, Err(error))) => view! { <p class="empty">{error}</p> }.into_any(),
            _ if query.get().is_some() => view! { <p class="empty">"Scoring the heads…"</p> }.into_any(),
            _ => view! { <p class="empty">"Run a prompt to score its heads."</p> }.into_any(),
        }
    };
    let repeated = move || {
        if !repeat.get() {
            return None;
        }
        let (ids, question) = repeat_question(ctx, pool.get());
        let answer = ctx.analyses.answer(&ids, &question);
        let drawn = match pool.get() {
            Pool::Vocabulary => "random tokens of the whole vocabulary",
            Pool::Prompt => "of the prompt's tokens in a random order",
        };
        Some(match answer {
            Some(Ok(Answer::Repeat { tokens, roles })) => view! {
                <p class="hint" id="repeat-summary">{format!("{} {drawn}, then the same {} again. ", tokens.len() / 2, tokens.len() / 2)}{repeat_summary(&roles)}</p>
                {role_map(ctx, &roles, n_head(), "repeat-map")}
            }
            .into_any(),
            other => waiting(&other),
        })
    };
    let busy = move || if query.get().is_some() && !ctx.views.roles.current() { "true" } else { "false" };
    view! {
        <div class="roles-panel" aria-busy=busy>
            <p class="hint">
                "Each score is the share of a head's attention on the keys its role marks (TransformerLens's head detectors; induction as in Olsson et al. 2022), over the queries where the role can apply. Click a head to open its map."
            </p>
            <details class="role-definitions">
                <summary>"What each score means"</summary>
                <dl>
                {Role::ALL.map(|r| {
                    let (name, text) = definition(r).split_once(": ").unwrap_or((r.name(), ""));
                    view! { <dt>{name}</dt><dd>{text}</dd> }
                }).into_iter().collect_view()}
                <dt>"entropy"</dt><dd>{ENTROPY.split_once(": ").map_or("", |d| d.1)}</dd>
                </dl>
            </details>
            {current}
            <h3>"Repeat test"</h3>
            <p class="hint">"Random tokens repeated twice: in the second half only an induction head can tell what comes next. A small model has never seen most of the vocabulary; the prompt's own tokens are words it knows."</p>
            <div class="repeat-controls">
                <label class="setting">
                    "Tokens from "
                    <select id="repeat-pool" on:change=move |ev| {
                        if let Some(p) = Pool::from_name(&event_target_value(&ev)) {
                            ctx.edit(|v| v.pool = p);
                        }
                    }>
                        <option value="vocabulary" selected=move || pool.get() == Pool::Vocabulary>"the whole vocabulary (TransformerLens)"</option>
                        <option value="prompt" selected=move || pool.get() == Pool::Prompt>"the current prompt"</option>
                    </select>
                </label>
                <button id="repeat-test" on:click=move |_| repeat.set(true)>"Run the repeat test"</button>
            </div>
            {repeated}
        </div>
    }
}
