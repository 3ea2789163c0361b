// The dashboard's words: labels in the chosen language (i18n.js), names of organisations,
// industries and districts from the reference data, numbers and Moscow times. Bound to the
// dashboard's state, whose language and reference data they read at each call.
'use strict';

const Words = (() => {
  const MOSCOW = 'Europe/Moscow';

  function over(state) {
    function t(key, ...args) {
      const s = (I18N[state.lang] && I18N[state.lang][key]) || I18N.ru[key] || key;
      return s.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
    }
    function named(kind, id) {
      const n = NAMES[kind] && NAMES[kind][id];
      return n ? n[state.lang === 'en' ? 1 : 0] : id;
    }
    function orgName(id) {
      const o = state.orgs.get(id);
      if (!o) return id;
      return (state.lang === 'en' ? o.name_en : o.name) || o.name || id;
    }
    // An industry is named by its UMC: the reference data gives its Russian name, and the English
    // one as the part of the UMC's English name after the colon ("...UMC: Nuclear industry").
    function industryName(code) {
      for (const o of state.orgs.values()) {
        if (o.kind !== 'umc' || o.industry !== code) continue;
        const extra = o.extra || {};
        const n = state.lang === 'en' ? extra.industry_name_en || afterColon(o.name_en) : extra.industry_name || afterColon(o.name);
        if (n) return n;
      }
      return code;
    }
    function afterColon(name) {
      const colon = (name || '').indexOf(': ');
      return colon > 0 ? name.slice(colon + 2) : '';
    }
    function regionName(code) {
      const r = state.regions.get(code);
      if (!r) return code;
      return (state.lang === 'en' ? r.name_en : r.name) || r.name || code;
    }
    // A UMC's name without the part every UMC shares ("Межрегиональный отраслевой УМЦ СПО: ").
    function shortOrgName(id) {
      const name = orgName(id);
      return afterColon(name) || name;
    }
    // What the instances of a collection are called: form 0 singular, 1 plural, 2 genitive plural.
    function noun(collection, form) {
      const nouns = NOUNS[state.lang] || NOUNS.ru;
      return (nouns[collection] || nouns[''])[form];
    }
    function groupName(groupBy, key) {
      if (key === 'none') return t('group.none');
      if (groupBy === 'umc') return shortOrgName(key);
      if (groupBy === 'industry') return industryName(key);
      if (groupBy === 'region') return regionName(key);
      return named('district', key);
    }
    const numberFormat = () => new Intl.NumberFormat(state.lang === 'en' ? 'en-GB' : 'ru-RU', {maximumFractionDigits: 1, minimumFractionDigits: 0, useGrouping: false});
    const days = (hours) => Math.round((hours / 24) * 10) / 10;
    // A date "2026-01-12" as the language writes it, short: 12.01.26 or 12/01/26.
    function formatDate(date, long) {
      return new Date(date + 'T12:00:00Z').toLocaleDateString(state.lang === 'en' ? 'en-GB' : 'ru-RU', {timeZone: 'UTC', year: long ? 'numeric' : '2-digit', month: '2-digit', day: '2-digit'});
    }
    function formatTime(iso) {
      if (!iso) return t('none');
      return new Date(iso).toLocaleString(state.lang === 'en' ? 'en-GB' : 'ru-RU', {timeZone: MOSCOW, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'});
    }

    return {t, named, orgName, industryName, regionName, shortOrgName, noun, groupName, numberFormat, days, formatDate, formatTime};
  }

  return {over};
})();
