/// The page templates (Mustache, kept as Swift literals so the binary carries them: nothing is
/// read from disk or fetched at run time). Every visible word comes from the catalogue (`t`).
enum Templates {
    static let all: [String: String] = [
        "layout": layout, "message": message, "risks": risks, "form": form, "record": record,
        "actions": actions, "lists": lists, "list": list, "conflicts": conflicts, "sync": sync, "import": importPage, "export": export, "register": register,
        "attendance": attendance, "report": Pages.reportTemplate,
        "heatmap": HeatMap.template, "rollup": Pages.template,
    ]

    static let layout = """
    <!doctype html>
    <html lang="{{lang}}">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} – {{t.app_name}}</title>
    <link rel="stylesheet" href="/style.css">
    {{#goTo}}<meta http-equiv="refresh" content="0; url={{goTo}}">{{/goTo}}
    {{#refreshSeconds}}<meta http-equiv="refresh" content="{{refreshSeconds}}">{{/refreshSeconds}}
    </head>
    <body{{#live}} data-version="{{version}}" data-reload="{{reload}}"{{/live}}>
    <a class="skip" href="#main">{{t.skip}}</a>
    <header class="masthead">
    <p class="brand">{{t.app_name}} · {{practice}}</p>
    <nav aria-label="{{t.nav_label}}"><ul>
    {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}{{#badge}} <span class="badge"><span class="visually-hidden">{{t.badge_conflicts}}</span>{{badge}}</span>{{/badge}}</a></li>
    {{/nav}}</ul></nav>
    </header>
    {{#live}}<div id="changes-bar" class="changes-bar" role="status" hidden><p>{{t.changes_arrived}} <a href="">{{t.changes_reload}}</a></p></div>{{/live}}
    <main id="main" tabindex="-1">
    {{#flash}}<p class="flash" role="status">{{flash}}</p>{{/flash}}
    {{{body}}}
    </main>
    <footer><p>{{footer}}</p></footer>
    {{#live}}<script>{{{script}}}</script>{{/live}}
    </body>
    </html>
    """

    static let message = """
    <h1>{{heading}}</h1>
    <p>{{text}}</p>
    {{#link}}<p><a href="{{href}}">{{label}}</a></p>{{/link}}
    """

    /// The form shared by every record type: fields described in Swift, errors beside them.
    static let form = """
    <h1>{{heading}}</h1>
    {{#hasErrors}}
    <div class="problem" role="alert" aria-labelledby="problem-title">
    <h2 id="problem-title">{{t.form_error_title}}</h2>
    <ul>{{#errors}}<li><a href="#f-{{field}}">{{message}}</a></li>{{/errors}}</ul>
    </div>
    {{/hasErrors}}
    <form method="post" action="{{action}}" novalidate>
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{#returnTo}}<input type="hidden" name="return_to" value="{{returnTo}}">{{/returnTo}}
    {{#fields}}
    <div class="field{{#error}} field-error{{/error}}">
    <label for="f-{{name}}">{{label}}{{#required}} <span class="req">({{t.form_required}})</span>{{/required}}</label>
    {{#baseline}}<input type="hidden" name="{{name}}" value="{{value}}">{{/baseline}}
    {{#hint}}<p class="hint" id="h-{{name}}">{{hint}}</p>{{/hint}}
    {{#error}}<p class="error" id="e-{{name}}"><span class="visually-hidden">{{t.form_error_title}}:</span> {{error}}</p>{{/error}}
    {{#isText}}<input type="text" id="f-{{name}}" name="{{name}}" value="{{value}}"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}{{#error}} aria-invalid="true"{{/error}}{{#autofocus}} autofocus{{/autofocus}}{{#suggestions}} list="l-{{name}}" autocomplete="off"{{/suggestions}}>{{#suggestions}}<datalist id="l-{{name}}">{{#names}}<option value="{{name}}">{{/names}}</datalist>{{/suggestions}}{{/isText}}
    {{#isTextarea}}<textarea id="f-{{name}}" name="{{name}}" rows="3"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}{{#error}} aria-invalid="true"{{/error}}{{#autofocus}} autofocus{{/autofocus}}>{{value}}</textarea>{{/isTextarea}}
    {{#isSelect}}<select id="f-{{name}}" name="{{name}}"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}{{#error}} aria-invalid="true"{{/error}}{{#autofocus}} autofocus{{/autofocus}}>
    {{#options}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/options}}
    </select>{{#finder}}
    <div class="finder"><label for="f-{{name}}">{{label}}</label>
    <p class="hint" id="h-{{name}}">{{hint}}</p>
    <input type="text" id="f-{{name}}" name="{{name}}" value="{{value}}" aria-describedby="h-{{name}}">{{#matched}}<input type="hidden" name="{{matchedName}}" value="{{matched}}">{{/matched}}</div>{{/finder}}{{/isSelect}}
    </div>
    {{/fields}}
    {{#privateChoice}}<div class="field"><input type="checkbox" id="f-private" name="private" value="yes" aria-describedby="h-private"{{#privateChecked}} checked{{/privateChecked}}> <label for="f-private" class="inline">{{t.form_private}}</label>
    <p class="hint" id="h-private">{{t.form_private_hint}}</p></div>{{/privateChoice}}
    <div class="actions-row"><button type="submit">{{t.form_save}}</button> <a href="{{cancel}}">{{t.form_cancel}}</a></div>
    </form>
    """

    static let risks = """
    <h1>{{t.risks_title}}</h1>
    {{^readOnly}}<div class="actions-row"><a class="button" href="/risks/new">{{t.risks_add}}</a></div>{{/readOnly}}
    <div class="layout-2">
    <div>
    <h2 id="heat-title">{{t.heat_title}}</h2>
    {{> heatmap}}
    <form method="get" action="/risks" class="filters" aria-labelledby="filter-title">
    <h2 id="filter-title">{{t.filter_title}}</h2>
    <div class="field"><label for="q">{{t.filter_search}}</label><input type="text" id="q" name="q" value="{{q}}"></div>
    <div class="field"><label for="status">{{t.filter_status}}</label><select id="status" name="status">{{#statusOptions}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/statusOptions}}</select></div>
    <div class="field"><label for="band">{{t.filter_band}}</label><select id="band" name="band">{{#bandOptions}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/bandOptions}}</select></div>
    <div class="field"><input type="checkbox" id="overdue" name="overdue" value="1"{{#overdueOnly}} checked{{/overdueOnly}}> <label for="overdue" class="inline">{{t.filter_overdue}}</label></div>
    <div class="field"><label for="sort">{{t.filter_sort}}</label><select id="sort" name="sort">{{#sortOptions}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/sortOptions}}</select></div>
    <div class="field"><label for="dir">{{t.filter_order}}</label><select id="dir" name="dir">{{#dirOptions}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/dirOptions}}</select></div>
    <div class="actions-row"><button type="submit">{{t.filter_apply}}</button> <a href="/risks">{{t.filter_clear}}</a></div>
    </form>
    </div>
    <div>
    <table id="register" class="cards">
    <caption>{{countText}}</caption>
    <thead><tr>{{#columns}}<th scope="col"{{#ariaSort}} aria-sort="{{ariaSort}}"{{/ariaSort}}><a href="{{href}}">{{label}}<span class="visually-hidden"> ({{sortLabel}})</span>{{#arrow}} {{arrow}}{{/arrow}}</a></th>{{/columns}}</tr></thead>
    <tbody>
    {{{rows}}}</tbody>
    </table>
    {{^hasRows}}<p>{{t.risks_none}}</p>{{/hasRows}}
    </div>
    </div>
    """

    static let actions = """
    <h1>{{t.actions_title}}</h1>
    {{^readOnly}}<div class="actions-row"><a class="button" href="/actions/new">{{t.actions_add}}</a></div>{{/readOnly}}
    {{#hasActions}}<form method="get" action="/actions" class="filters" aria-labelledby="filter-title">
    <h2 id="filter-title">{{t.actions_filter_title}}</h2>
    {{#from}}<p class="hint" id="from-hint">{{text}} <a href="{{clear}}">{{t.actions_from_clear}}</a></p><input type="hidden" name="from" value="{{id}}">{{/from}}
    <div class="field"><label for="q">{{t.actions_filter_search}}</label><input type="text" id="q" name="q" value="{{q}}"></div>
    <div class="field"><label for="status">{{t.filter_status}}</label><select id="status" name="status">{{#statusOptions}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/statusOptions}}</select></div>
    <div class="field"><input type="checkbox" id="overdue" name="overdue" value="1"{{#overdueOnly}} checked{{/overdueOnly}}> <label for="overdue" class="inline">{{t.actions_filter_overdue}}</label></div>
    <div class="field"><label for="sort">{{t.filter_sort}}</label><select id="sort" name="sort">{{#sortOptions}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/sortOptions}}</select></div>
    <div class="field"><label for="dir">{{t.filter_order}}</label><select id="dir" name="dir">{{#dirOptions}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/dirOptions}}</select></div>
    <div class="actions-row"><button type="submit">{{t.filter_apply}}</button> <a href="/actions">{{t.filter_clear}}</a></div>
    </form>{{/hasActions}}
    {{#hasRows}}<table class="cards">
    <caption>{{countText}}</caption>
    <thead><tr>{{#columns}}<th scope="col"{{#ariaSort}} aria-sort="{{ariaSort}}"{{/ariaSort}}><a href="{{href}}">{{label}}<span class="visually-hidden"> ({{sortLabel}})</span>{{#arrow}} {{arrow}}{{/arrow}}</a></th>{{/columns}}<th scope="col">{{t.col_rag}}</th></tr></thead>
    <tbody>
    {{{rows}}}</tbody>
    </table>{{/hasRows}}
    {{^hasActions}}<p>{{t.actions_none}}</p>{{/hasActions}}
    {{#hasActions}}{{^hasRows}}<p>{{t.actions_none_match}}</p>{{/hasRows}}{{/hasActions}}
    """

    static let lists = """
    <h1>{{t.lists_title}}</h1>
    <ul>{{#lists}}<li><a href="/lists/{{id}}">{{title}}</a> ({{kind}}, {{count}})</li>{{/lists}}</ul>
    {{^lists}}<p>{{t.lists_none}}</p>{{/lists}}
    {{^readOnly}}
    <h2 id="new-list">{{t.lists_new}}</h2>
    {{#hasErrors}}<div class="problem" role="alert"><h2>{{t.form_error_title}}</h2><ul>{{#errors}}<li><a href="#f-title">{{message}}</a></li>{{/errors}}</ul></div>{{/hasErrors}}
    <form method="post" action="/lists" aria-labelledby="new-list">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <div class="field"><label for="f-title">{{t.field_title}}</label><input type="text" id="f-title" name="title" value="{{typedTitle}}"></div>
    <div class="field"><label for="f-kind">{{t.field_kind}}</label><select id="f-kind" name="kind">{{#kinds}}<option value="{{kind}}"{{#selected}} selected{{/selected}}>{{kind}}</option>{{/kinds}}</select></div>
    <button type="submit">{{t.lists_create}}</button>
    </form>
    {{/readOnly}}
    """

    static let list = """
    <h1>{{title}}</h1>
    {{#hasErrors}}<div class="problem" role="alert"><h2>{{t.form_error_title}}</h2><ul>{{#errors}}<li>{{message}}</li>{{/errors}}</ul></div>{{/hasErrors}}
    <ol class="items" id="items">
    {{#items}}<li>
    <span class="number">{{number}}.</span><span class="text"><a href="/records/{{id}}" aria-label="{{openLabel}}">{{text}}</a>{{#owner}} – {{owner}}{{/owner}}{{#done}} ({{t.list_item_done}}){{/done}}</span>
    {{^readOnly}}
    {{^first}}<form method="post" action="/lists/{{listID}}/move"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="item" value="{{id}}"><input type="hidden" name="to" value="{{up}}"><button class="secondary" type="submit" aria-label="{{upLabel}}">{{t.list_up}}</button></form>{{/first}}
    {{^last}}<form method="post" action="/lists/{{listID}}/move"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="item" value="{{id}}"><input type="hidden" name="to" value="{{down}}"><button class="secondary" type="submit" aria-label="{{downLabel}}">{{t.list_down}}</button></form>{{/last}}
    <form method="post" action="/lists/{{listID}}/move"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="item" value="{{id}}"><label for="to-{{id}}" class="visually-hidden">{{toLabel}}</label><input type="number" id="to-{{id}}" name="to" min="1" max="{{count}}" value="{{number}}"><button class="secondary" type="submit" aria-label="{{moveLabel}}">{{t.list_move}}</button></form>
    {{/readOnly}}
    {{#conflict}}<a href="/records/{{id}}" class="conflict-label">{{t.has_conflict}}</a>{{/conflict}}
    </li>
    {{/items}}</ol>
    {{^items}}<p>{{t.list_empty}}</p>{{/items}}
    {{^readOnly}}
    <h2 id="add-item">{{t.list_add_item}}</h2>
    <form method="post" action="/lists/{{listID}}/items" aria-labelledby="add-item">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <div class="field"><label for="f-text">{{t.field_text}}</label><input type="text" id="f-text" name="text" value="{{typedText}}"{{#itemError}} aria-invalid="true" aria-describedby="e-text"{{/itemError}}>{{#itemError}}<p class="error" id="e-text">{{itemError}}</p>{{/itemError}}</div>
    <div class="field"><label for="f-owner">{{t.field_owner}}</label><input type="text" id="f-owner" name="owner" value="{{typedOwner}}"></div>
    <button type="submit">{{t.list_add}}</button>
    </form>
    {{/readOnly}}
    """

    static let record = """
    <h1>{{heading}}</h1>
    <p>{{scopeText}}{{#deleted}} · <strong>{{t.record_deleted}}</strong>{{/deleted}}</p>
    {{^readOnly}}{{#editable}}<div class="actions-row"><a class="button" href="/records/{{id}}/edit">{{t.record_edit}}</a></div>{{/editable}}{{/readOnly}}
    {{#hasErrors}}<div class="problem" role="alert"><h2>{{t.form_error_title}}</h2><ul>{{#errors}}<li>{{#href}}<a href="{{href}}">{{message}}</a>{{/href}}{{^href}}{{message}}{{/href}}</li>{{/errors}}</ul></div>{{/hasErrors}}
    {{#agendaID}}<p><a href="/lists/{{agendaID}}">{{t.field_agenda}}</a></p>{{/agendaID}}
    {{#hasConflicts}}<h2 id="conflicts">{{t.record_conflicts}}</h2>{{/hasConflicts}}
    {{#conflicts}}
    <section class="conflict" aria-labelledby="c-{{field}}">
    <h3 id="c-{{field}}">{{label}}</h3>
    <p>{{intro}}</p>
    <div class="sides">
    {{#sides}}<div class="side">
    <p class="value">{{text}}</p>
    <p>{{byline}}</p>
    {{^readOnly}}<form method="post" action="/records/{{id}}/resolve"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="field" value="{{field}}"><input type="hidden" name="keep" value="{{change}}"><button type="submit" aria-label="{{keepLabel}}">{{t.record_keep}}</button></form>{{/readOnly}}
    </div>{{/sides}}
    </div>
    </section>
    {{/conflicts}}
    {{^conflicts}}<p>{{t.record_no_conflicts}}</p>{{/conflicts}}
    <h2>{{t.record_fields}}</h2>
    <dl class="fields">{{#fields}}<dt>{{label}}</dt><dd>{{#href}}<a href="{{href}}">{{value}}</a>{{/href}}{{^href}}{{value}}{{/href}}</dd>{{/fields}}</dl>
    {{#hasChecks}}<h2 id="checks">{{t.record_checks}}</h2>
    <dl class="checks">{{#checks}}<dt>{{label}}</dt><dd{{#attention}} class="attention"{{/attention}}>{{{html}}}</dd>{{/checks}}</dl>{{/hasChecks}}
    {{^readOnly}}{{#attendForm}}
    <h2 id="attend">{{t.attend_title}}</h2>
    <form method="post" action="/records/{{id}}/attend" aria-labelledby="attend"{{#error}} aria-describedby="a-error"{{/error}}>
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{#error}}<p class="error" id="a-error"><span class="visually-hidden">{{t.form_error_title}}:</span> {{error}}</p>{{/error}}
    <div class="field"><label for="a-name">{{t.attend_name}}</label><input type="text" id="a-name" name="name" value="{{typed.name}}" list="a-names" autocomplete="off"><datalist id="a-names">{{#names}}<option value="{{name}}">{{/names}}</datalist></div>
    <div class="field"><label for="a-role">{{t.attend_role}}</label><select id="a-role" name="role">{{#roles}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/roles}}</select></div>
    <div class="field"><label for="a-capacity">{{t.attend_capacity}}</label><select id="a-capacity" name="capacity"><option value="">{{t.attend_capacity_none}}</option>{{#capacities}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/capacities}}</select></div>
    <div class="field"><label for="a-practice">{{t.attend_practice}}</label><p class="hint" id="h-a-practice">{{t.attend_practice_hint}}</p><input type="text" id="a-practice" name="practice" aria-describedby="h-a-practice" value="{{typed.practice}}"></div>
    <div class="field"><label for="a-represents">{{t.attend_represents}}</label><input type="text" id="a-represents" name="represents" value="{{typed.represents}}"></div>
    <div class="field"><label for="a-replaces">{{t.attend_replaces}}</label><input type="text" id="a-replaces" name="replaces" value="{{typed.replaces}}" list="a-replaced" autocomplete="off"><datalist id="a-replaced">{{#replaced}}<option value="{{name}}">{{/replaced}}</datalist></div>
    <div class="field"><label for="a-agreed-by">{{t.attend_agreed_by}}</label><input type="text" id="a-agreed-by" name="agreed_by" value="{{typed.agreed_by}}"></div>
    <div class="field"><label for="a-agreed-on">{{t.attend_agreed_on}}</label><input type="text" id="a-agreed-on" name="agreed_on" placeholder="DD/MM/YYYY" value="{{typed.agreed_on}}"></div>
    <button type="submit">{{t.attend_add}}</button>
    </form>
    {{#hasAttendees}}<ul class="attendees">{{#attendees}}<li>{{text}} <form class="inline" method="post" action="/records/{{id}}/unattend"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="name" value="{{name}}"><button type="submit" class="secondary" aria-label="{{removeLabel}}">{{t.attend_remove}}</button></form></li>{{/attendees}}</ul>{{/hasAttendees}}
    {{/attendForm}}{{/readOnly}}
    {{#hasMeetingDecisions}}<h2>{{t.meeting_decisions}}</h2>
    <ul class="meeting-decisions">{{#meetingDecisions}}<li><a href="/records/{{id}}">{{title}}</a></li>{{/meetingDecisions}}</ul>{{/hasMeetingDecisions}}
    {{#hasArisingActions}}<h2>{{t.arising_title}}</h2>
    <ul class="arising-actions">{{#arisingActions}}<li><a href="/records/{{id}}">{{title}}</a>{{#detail}} – {{detail}}{{/detail}}</li>{{/arisingActions}}</ul>
    <p><a href="{{arisingInTracker}}">{{t.arising_in_tracker}}</a></p>{{/hasArisingActions}}
    {{^readOnly}}{{#hasRecordFromHere}}<div class="actions-row record-from-here">{{#recordFromHere}}<a class="button" href="{{href}}">{{label}}</a> {{/recordFromHere}}</div>{{/hasRecordFromHere}}{{/readOnly}}
    {{^readOnly}}{{#voteForm}}
    <h2 id="vote">{{t.vote_title}}</h2>
    <form method="post" action="/records/{{id}}/vote" aria-labelledby="vote"{{#error}} aria-describedby="v-error"{{/error}}>
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{#error}}<p class="error" id="v-error"><span class="visually-hidden">{{t.form_error_title}}:</span> {{error}}</p>{{/error}}
    <div class="field"><label for="v-member">{{t.vote_member}}</label><input type="text" id="v-member" name="member" value="{{typed.member}}" list="v-names" autocomplete="off"><datalist id="v-names">{{#names}}<option value="{{name}}">{{/names}}</datalist></div>
    <div class="field"><label for="v-vote">{{t.vote_vote}}</label><select id="v-vote" name="vote">{{#votes}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/votes}}</select></div>
    <div class="field"><input type="checkbox" id="v-proxy" name="proxy" value="1"{{#byProxy}} checked{{/byProxy}}> <label for="v-proxy" class="inline">{{t.vote_proxy}}</label></div>
    <button type="submit">{{t.vote_add}}</button>
    </form>
    {{#hasCast}}<ul class="votes-cast">{{#cast}}<li>{{text}} <form class="inline" method="post" action="/records/{{id}}/unvote"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="member" value="{{member}}"><button type="submit" class="secondary" aria-label="{{withdrawLabel}}">{{t.vote_withdraw}}</button></form></li>{{/cast}}</ul>{{/hasCast}}
    {{/voteForm}}{{/readOnly}}
    {{^readOnly}}{{#noteForm}}
    <h2 id="note">{{t.note_title}}</h2>
    <form method="post" action="/records/{{id}}/note" aria-labelledby="note"{{#error}} aria-describedby="n-error"{{/error}}>
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{#error}}<p class="error" id="n-error"><span class="visually-hidden">{{t.form_error_title}}:</span> {{error}}</p>{{/error}}
    <div class="field"><label for="n-note">{{t.note_text}}</label><textarea id="n-note" name="note" rows="3">{{typed}}</textarea></div>
    <button type="submit">{{t.note_add}}</button>
    </form>
    {{/noteForm}}{{/readOnly}}
    {{^readOnly}}{{#hasSetForms}}<h2 id="sets">{{t.set_title}}</h2>{{/hasSetForms}}
    {{#setForms}}<section class="set" aria-labelledby="s-{{field}}">
    <h3 id="s-{{field}}">{{label}}</h3>
    {{#hasMembers}}<ul class="members">{{#members}}<li>{{text}} <form class="inline" method="post" action="/records/{{id}}/members"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="field" value="{{field}}"><input type="hidden" name="op" value="remove"><input type="hidden" name="value" value="{{value}}"><button type="submit" class="secondary" aria-label="{{removeLabel}}">{{t.set_remove}}</button></form></li>{{/members}}</ul>{{/hasMembers}}
    {{^hasMembers}}<p>{{#none}}{{none}}{{/none}}{{^none}}{{t.set_none}}{{/none}}</p>{{/hasMembers}}
    {{#canAdd}}<form method="post" action="/records/{{id}}/members" class="actions-row"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="field" value="{{field}}"><input type="hidden" name="op" value="add">
    <label class="inline" for="s-{{field}}-value">{{addLabel}}</label>{{#hint}}<span class="hint" id="s-{{field}}-hint">{{hint}}</span>{{/hint}}
    {{#error}}<p class="error" id="s-{{field}}-error"><span class="visually-hidden">{{t.form_error_title}}:</span> {{error}}</p>{{/error}}
    {{#text}}<input type="text" id="s-{{field}}-value" name="value" value="{{typedValue}}"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}{{#error}} aria-invalid="true" autofocus{{/error}}>{{/text}}{{^text}}<select id="s-{{field}}-value" name="value"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}{{#error}} aria-invalid="true" autofocus{{/error}}><option value="">{{t.set_choose}}</option>{{#options}}<option value="{{optionValue}}">{{optionLabel}}</option>{{/options}}</select>{{/text}}
    {{#finder}}<label class="inline" for="s-{{field}}-find">{{t.link_find}}</label> <input type="text" id="s-{{field}}-find" name="find" value="{{value}}" aria-describedby="s-{{field}}-find-hint">{{#matched}}<input type="hidden" name="matched" value="{{matched}}">{{/matched}}
    <span class="hint" id="s-{{field}}-find-hint">{{hint}}</span>{{/finder}}
    <button type="submit" class="secondary">{{t.set_add}}</button></form>{{/canAdd}}
    </section>{{/setForms}}{{/readOnly}}
    {{^readOnly}}{{#deleteForm}}
    {{^isDeleted}}<h2 id="delete">{{t.delete_title}}</h2>
    <form method="post" action="/records/{{id}}/delete" aria-labelledby="delete"{{#error}} aria-describedby="d-error"{{/error}}>
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{#error}}<p class="error" id="d-error"><span class="visually-hidden">{{t.form_error_title}}:</span> {{error}}</p>{{/error}}
    <p>{{intro}}</p>
    <div class="field"><input type="checkbox" id="d-confirm" name="confirm" value="yes"> <label for="d-confirm" class="inline">{{t.delete_confirm}}</label></div>
    <button type="submit" class="secondary">{{t.delete_button}}</button>
    </form>{{/isDeleted}}
    {{#isDeleted}}<form method="post" action="/records/{{id}}/restore" class="actions-row"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.restore_button}}</button></form>{{/isDeleted}}
    {{/deleteForm}}{{/readOnly}}
    <h2>{{t.record_history}}</h2>
    <table><thead><tr><th scope="col">{{t.history_when}}</th><th scope="col">{{t.history_who}}</th><th scope="col">{{t.history_what}}</th></tr></thead>
    <tbody>{{#history}}<tr><td>{{when}}</td><td>{{who}}</td><td>{{what}}</td></tr>{{/history}}</tbody></table>
    """

    static let conflicts = """
    <h1>{{t.conflicts_title}}</h1>
    {{#hasRecords}}<p>{{t.conflicts_intro}}</p>{{/hasRecords}}
    <ul>{{#records}}<li><a href="/records/{{id}}">{{title}}</a> – {{fields}}</li>{{/records}}</ul>
    {{^records}}<p>{{t.conflicts_none}}</p>{{/records}}
    """

    static let sync = """
    <h1>{{t.sync_title}}</h1>
    {{#syncing}}<p class="flash" role="status" id="syncing">{{syncing}}</p>{{/syncing}}
    {{#failure}}<div class="problem" role="alert"><p>{{failure}}</p></div>{{/failure}}
    <dl class="fields">
    <dt>{{t.sync_server}}</dt><dd>{{server}}</dd>
    <dt>{{t.sync_last}}</dt><dd>{{lastSync}}</dd>
    <dt>{{t.sync_pending}}</dt><dd id="pending">{{pending}}</dd>
    <dt>{{t.sync_conflicts}}</dt><dd><a href="/conflicts">{{conflicts}}</a></dd>
    <dt>{{t.sync_set_aside}}</dt><dd>{{setAside}}</dd>
    <dt>{{t.sync_held_back}}</dt><dd id="held-back-count">{{heldBackCount}}</dd>
    {{^syncing}}<dt>{{t.sync_watch}}</dt><dd id="watch">{{watch}}{{#watchApplied}}<br>{{watchApplied}}{{/watchApplied}}</dd>{{/syncing}}
    </dl>
    {{#hasHeldBack}}<h2>{{t.sync_held_heading}}</h2>
    <p>{{t.sync_held_intro}}</p>
    <table id="held-back" class="cards">
    <thead><tr><th scope="col">{{t.sync_held_record}}</th><th scope="col">{{t.sync_held_field}}</th><th scope="col">{{t.sync_held_why}}</th><th scope="col">{{t.sync_held_since}}</th></tr></thead>
    <tbody>{{#heldBack}}<tr><td data-label="{{t.sync_held_record}}">{{#hasRecord}}<a href="/records/{{record}}">{{name}}</a>{{/hasRecord}}{{^hasRecord}}{{name}}{{/hasRecord}}</td><td data-label="{{t.sync_held_field}}">{{field}}</td><td data-label="{{t.sync_held_why}}">{{why}}<br><span class="hint">{{t.sync_held_server_said}} {{reason}}</span></td><td data-label="{{t.sync_held_since}}">{{since}}</td></tr>
    {{/heldBack}}</tbody>
    </table>{{/hasHeldBack}}
    {{#hasServer}}{{^syncing}}<form method="post" action="/sync"><input type="hidden" name="csrf" value="{{csrf}}"><div class="actions-row"><button type="submit">{{t.sync_now}}</button></div></form>{{/syncing}}{{/hasServer}}
    """

    /// A governance register: a heading row and rows of cells, the first cell linking to the record.
    static let register = """
    <h1>{{heading}}</h1>
    <div class="actions-row">{{^readOnly}}<a class="button" href="{{newPath}}">{{addLabel}}</a> {{/readOnly}}{{#also}}<a href="{{href}}">{{label}}</a> {{/also}}</div>
    {{#narrowing}}<form method="get" action="{{action}}" class="actions-row"><input type="checkbox" id="only" name="only" value="1"{{#checked}} checked{{/checked}}> <label for="only" class="inline">{{label}}</label> <button type="submit" class="secondary">{{t.filter_apply}}</button></form>
    {{#checked}}<p class="register-narrowed">{{count}}</p>{{/checked}}{{/narrowing}}
    {{#partial}}<p class="register-partial">{{text}} <a href="{{href}}">{{label}}</a></p>{{/partial}}
    <table class="cards">
    <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
    <tbody>
    {{#rows}}<tr{{#overdue}} class="overdue"{{/overdue}}><td><a href="/records/{{id}}">{{name}}</a>{{#conflict}} <span class="conflict-label">({{t.has_conflict}})</span>{{/conflict}}</td>{{#cells}}<td data-label="{{label}}">{{value}}</td>{{/cells}}</tr>
    {{/rows}}</tbody>
    </table>
    {{^rows}}<p>{{t.register_none}}</p>{{/rows}}
    """

    /// GP Collaborative attendance in a QAIF year (`Pages.attendancePage`).
    static let attendance = """
    <h1>{{heading}}</h1>
    <form method="get" action="/attendance" class="actions-row">
    <label class="inline" for="year">{{t.attendance_year}}</label>
    <input type="text" id="year" name="year" value="{{year}}"{{#yearError}} aria-invalid="true" aria-describedby="year-error"{{/yearError}}>
    <button type="submit" class="secondary">{{t.attendance_show}}</button>
    </form>
    {{#yearError}}<p class="error" id="year-error">{{yearError}}</p>{{/yearError}}
    <p>{{period}}</p>
    {{#scheduleHint}}<p class="hint" id="schedule-hint">{{scheduleHint}}</p>{{/scheduleHint}}
    {{#hasRows}}<table class="cards attendance">
    <thead><tr><th scope="col">{{t.attendance_practice}}</th><th scope="col">{{t.attendance_attended}}</th><th scope="col">{{t.attendance_needed}}</th><th scope="col">{{t.attendance_status}}</th><th scope="col">{{t.attendance_not_counted}}</th></tr></thead>
    <tbody>{{#rows}}<tr{{#red}} class="overdue"{{/red}}><th scope="row">{{practice}}</th><td data-label="{{t.attendance_attended}}">{{attended}}</td><td data-label="{{t.attendance_needed}}">{{needed}}</td><td data-label="{{t.attendance_status}}">{{status}}</td><td data-label="{{t.attendance_not_counted}}">{{notCounted}}</td></tr>
    {{/rows}}</tbody>
    </table>{{/hasRows}}
    {{^hasRows}}<p>{{t.attendance_none}}</p>{{/hasRows}}
    <p class="hint">{{t.attendance_rules}}</p>
    """

    static let importPage = """
    <h1>{{t.import_title}}</h1>
    <p>{{t.import_intro}}</p>
    {{#refusal}}<div class="problem" role="alert" aria-labelledby="problem-title">
    <h2 id="problem-title">{{refusal}}</h2>
    {{#hasProblems}}<table>
    <thead><tr><th scope="col">{{t.import_line}}</th><th scope="col">{{t.import_column}}</th><th scope="col">{{t.import_problem}}</th></tr></thead>
    <tbody>{{#problems}}<tr><td>{{line}}</td><td>{{column}}</td><td>{{message}}</td></tr>{{/problems}}</tbody>
    </table>{{/hasProblems}}
    <p>{{t.import_nothing_changed}}</p>
    </div>{{/refusal}}
    {{#hasWarnings}}<div class="warning" id="import-warnings">
    <h2>{{t.import_warnings}}</h2>
    <ul>{{#warnings}}<li>{{t.import_line}} {{line}}: {{message}}</li>{{/warnings}}</ul>
    </div>{{/hasWarnings}}
    {{#hasRows}}<table class="check-rows">
    <caption>{{t.import_rows_caption}}</caption>
    <thead><tr><th scope="col">{{t.import_line}}</th><th scope="col">{{t.import_row_what}}</th><th scope="col">{{t.import_row_record}}</th><th scope="col">{{t.import_row_fields}}</th></tr></thead>
    <tbody>{{#rows}}<tr><td>{{line}}</td><td>{{action}}</td><td>{{record}}</td><td>{{fields}}</td></tr>{{/rows}}</tbody>
    </table>{{/hasRows}}
    <form method="post" action="/import" enctype="multipart/form-data">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <input type="hidden" name="sent" value="{{sent}}">
    <div class="field"><label for="f-type">{{t.import_type}}</label><select id="f-type" name="type">{{#types}}<option value="{{optionValue}}"{{#selected}} selected{{/selected}}>{{optionLabel}}</option>{{/types}}</select></div>
    <div class="field"><label for="f-file">{{t.import_file}}</label><p class="hint" id="h-file">{{sizeHint}}</p><input type="file" id="f-file" name="file" accept=".csv,text/csv" aria-describedby="h-file"></div>
    <div class="field"><input type="checkbox" id="f-check" name="check" value="1"{{#checkOnly}} checked{{/checkOnly}}> <label for="f-check" class="inline">{{t.import_check}}</label></div>
    <div class="actions-row"><button type="submit">{{t.import_submit}}</button></div>
    </form>
    """

    static let export = """
    <h1>{{t.export_title}}</h1>
    <p>{{t.export_intro}}</p>
    <ul>
    {{#files}}<li><a href="{{href}}" download>{{label}}</a></li>{{/files}}
    <li><a href="/export/clustersync.json" download>{{t.export_json}}</a></li>
    </ul>
    <h2 id="backup">{{t.export_backup_title}}</h2>
    {{#failure}}<div class="problem" role="alert"><p>{{failure}}</p></div>{{/failure}}
    <p>{{t.export_backup_intro}}</p>
    <p>{{t.export_backup_where}} <code>{{replicaPath}}</code></p>
    <p id="last-backup">{{lastBackup}}</p>
    <form method="post" action="/export/backup" aria-labelledby="backup"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.export_backup_button}}</button></form>
    """
}
