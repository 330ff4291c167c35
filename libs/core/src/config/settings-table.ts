import type { SettingTable } from './setting.ts';

/**
 * The README's configuration table for one or more setting tables, as
 * Markdown. The README embeds this output; a test keeps the two identical.
 */
export function renderSettingsTable(...tables: SettingTable[]): string {
  const seen = new Set<string>();
  const rows = ['| variable | default | expected | description |', '|---|---|---|---|'];
  for (const table of tables) {
    for (const s of Object.values(table)) {
      if (seen.has(s.env)) continue;
      seen.add(s.env);
      const fallback =
        s.defaultText !== undefined && s.defaultText !== ''
          ? `\`${s.defaultText}\``
          : s.optional || s.defaultText === ''
            ? '(unset)'
            : '**required**';
      const secret = s.secret ? ' Secret: never logged.' : '';
      rows.push(`| \`${s.env}\` | ${fallback} | ${s.expected} | ${s.description}${secret} |`);
    }
  }
  return rows.join('\n');
}
