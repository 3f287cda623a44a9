/**
 * CML's comment watermark, so `cml comment create/update` and this publisher find the same
 * comment. Format as iterative/cml src/watermark.js writes it, appended after a blank line:
 *   ![](https://cml.dev/watermark.png#<commit sha> "CML watermark <label>")
 * `cml comment update` takes the last comment whose body matches that with any hex after `#`
 * and exactly this title. The label is `--watermark-title` (env CML_COMMENT_WATERMARK_TITLE,
 * which cml reads too), with its first `{workflow}` and `{run}` replaced like cml does.
 */
export const CML_WATERMARK_IMAGE = 'https://cml.dev/watermark.png';

export interface WatermarkEnv {
  CML_COMMENT_WATERMARK_TITLE?: string;
  GITHUB_WORKFLOW?: string;
  GITHUB_RUN_ID?: string;
}

/** cml replaces only the first occurrence of each placeholder (String.replace with a string). */
export function watermarkLabel(env: WatermarkEnv): string {
  return (env.CML_COMMENT_WATERMARK_TITLE ?? '')
    .replace('{workflow}', String(env.GITHUB_WORKFLOW))
    .replace('{run}', String(env.GITHUB_RUN_ID));
}

/** The title as cml writes it: GitHub returns `_ * [ <` escaped, so cml escapes them up front. */
export function watermarkTitle(label: string): string {
  return `CML watermark ${label}`
    .trim()
    .replace(/_/g, '\\_')
    .replace(/\*/g, '\\*')
    .replace(/\[/g, '\\[')
    .replace(/</g, '\\<');
}

export function cmlWatermark(label: string, sha: string | null | undefined): string {
  const hash = sha && /^[0-9a-fA-F]+$/.test(sha) ? sha : '0';
  return `![](${CML_WATERMARK_IMAGE}#${hash} "${watermarkTitle(label)}")`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** cml's `Watermark.isIn`: the image with any hex hash and exactly this title. */
export function hasCmlWatermark(body: string, label: string): boolean {
  return new RegExp(
    `!\\[\\]\\(${escapeRegExp(CML_WATERMARK_IMAGE)}#[0-9a-fA-F]+ "${escapeRegExp(watermarkTitle(label))}"\\)`,
  ).test(body);
}

/** Any CML watermark, whatever its label (to keep the body from carrying two). */
export const ANY_CML_WATERMARK =
  /\n*!\[\]\(https:\/\/cml\.dev\/watermark\.png#[0-9a-fA-F]+ "CML watermark[^"\n]*"\)[ \t]*/g;
