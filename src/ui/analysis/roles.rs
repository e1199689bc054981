//! Head roles: every head's scores as a layer x head map coloured by its strongest role, a
//! table sortable by any score, and the repeat test. Clicking a head opens its heatmap.

use leptos::prelude::*;

use crate::analysis::aggregate::Source;
use crate::analysis::pattern::Pattern;
use crate::analysis::probe::{Answer, Question};
use crate::analysis::roles::{HeadRoles, Role, SortBy, head_roles, sort};
use crate::ui::analysis::waiting;
use crate::ui::state::Ctx;
use crate::view::state::Mode;

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

fn open_head(ctx: Ctx, layer: usize, head: usize) {
    ctx.view.update(|v| {
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
                <button class="role-cell" style=style data-layer=layer data-head=head data-role=name title=label.clone() aria-label=label on:click=move |_| open_head(ctx, layer, head)>
                    <span class="role-head">{format!("L{layer} H{head}")}</span>
                    <span class="role-name">{name}</span>
                    <span class="role-score">{score_text(strongest.map(|s| s.1))}</span>
                </button>
            }
        })
        .collect_view();
    let legend = Role::ALL.into_iter().map(|r| view! { <span class="role-key"><i style=format!("background: {}", colour(r))></i>{r.name()}</span> }).collect_view();
    view! {
        <div class="role-legend">{legend}</div>
        <div class="role-map" id=id style=format!("--columns: {n_head}")>{cells}</div>
    }
}

/// The sortable table of every score.
fn role_table(ctx: Ctx, mut roles: Vec<HeadRoles>, by: SortBy) -> impl IntoView + use<> {
    sort(&mut roles, by);
    let header = |title: &'static str, key: SortBy| {
        let sorted = by == key;
        view! {
            <th aria-sort=if sorted { "descending" } else { "none" }>
                <button class="sort" class:sorted=sorted data-sort=key.name() on:click=move |_| ctx.view.update(|v| v.sort = key)>{title}</button>
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
                    {header("head", SortBy::Position)}
                    {header("entropy (bits)", SortBy::Entropy)}
                    {Role::ALL.map(|r| header(r.name(), SortBy::Role(r))).into_iter().collect_view()}
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

pub fn roles_panel(ctx: Ctx) -> impl IntoView {
    let repeat = RwSignal::new(false);
    Effect::new(move |_| {
        if repeat.get() {
            ctx.analyses.ask(ctx, Vec::new(), Question::RepeatTest { half: REPEAT_HALF, seed: REPEAT_SEED });
        }
    });
    let sort = Memo::new(move |_| ctx.view.with(|v| v.sort));
    let current = move || {
        let n = ctx.visible();
        let by = sort.get();
        let roles = ctx.run.with(|run| {
            let run = run.as_ref()?;
            let capture = run.capture.as_ref().filter(|c| n > 0 && n <= c.len())?;
            let ids: Vec<u32> = run.tokens[..n].iter().map(|t| t.id).collect();
            let patterns: Vec<Vec<Pattern>> = (0..capture.n_layer()).map(|l| Pattern::of_layer(capture, l, n)).collect();
            Some((head_roles(&patterns, &ids), capture.n_head()))
        });
        match roles {
            None => view! { <p class="empty">"Run a prompt to score its heads."</p> }.into_any(),
            Some((roles, n_head)) => view! {
                {role_map(ctx, &roles, n_head, "role-map")}
                {role_table(ctx, roles, by)}
            }
            .into_any(),
        }
    };
    let repeated = move || {
        if !repeat.get() {
            return None;
        }
        let answer = ctx.analyses.answer(&[], &Question::RepeatTest { half: REPEAT_HALF, seed: REPEAT_SEED });
        let n_head = ctx.run.with(|r| r.as_ref().and_then(|r| r.capture.as_ref()).map_or(1, |c| c.n_head()));
        Some(match answer {
            Some(Ok(Answer::Repeat { tokens, roles })) => view! {
                <p class="hint" id="repeat-summary">{format!("{} random tokens, then the same {} again. ", tokens.len() / 2, tokens.len() / 2)}{repeat_summary(&roles)}</p>
                {role_map(ctx, &roles, n_head, "repeat-map")}
            }
            .into_any(),
            other => waiting(&other),
        })
    };
    view! {
        <div class="roles-panel">
            <p class="hint">
                "Each score is the share of a head's attention on the keys its role marks (TransformerLens's head detectors; induction as in Olsson et al. 2022), over the queries where the role can apply. Click a head to open its map."
            </p>
            {current}
            <h3>"Repeat test"</h3>
            <p class="hint">"Random tokens repeated twice: in the second half only an induction head can tell what comes next."</p>
            <button id="repeat-test" on:click=move |_| repeat.set(true)>"Run the repeat test"</button>
            {repeated}
        </div>
    }
}
