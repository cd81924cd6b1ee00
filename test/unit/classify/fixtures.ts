/** Small synthetic labelled data for fast, deterministic training tests (not the shared data set). */
import { type ModelArtifact, seededRandom, type TrainExample } from '#core/classify/model.ts';

const TOPICS: Record<string, string[]> = {
  交通运输: ['公交车', '地铁站', '红绿灯', '出租车', '拒载', '班次太少', '公交线路', '网约车'],
  环境保护: ['噪音扰民', '排放废气', '污水直排', '异味刺鼻', '扬尘严重', '河道发臭', '油烟', '夜间施工'],
  教育文体: ['学校', '老师', '学位', '入学', '补课费', '幼儿园', '班主任', '招生'],
};
const FILLER = [
  '请',
  '尽快',
  '处理',
  '我们',
  '小区',
  '附近',
  '每天',
  '居民',
  '反映',
  '希望',
  '有关部门',
  '已经',
  '很久',
];

export function syntheticExamples(perLabel = 20, seed = 7): TrainExample[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  const out: TrainExample[] = [];
  for (let i = 0; i < perLabel; i++) {
    for (const [label, words] of Object.entries(TOPICS)) {
      const parts: string[] = [];
      for (let j = 0; j < 6; j++) parts.push(rnd() < 0.5 ? pick(words) : pick(FILLER));
      parts.push(pick(words));
      out.push({ text: `${parts.join('')}。`, label });
    }
  }
  return out;
}

/**
 * The reference calibration of an artifact's raw scores, written out for the naive readers of the tests: z = T·s + b,
 * or z = M·s + b (`matrix`, row-major, summed from the bias in label order as the product does).
 */
export function calibratedLogits(a: ModelArtifact, s: readonly number[]): number[] {
  const cal = a.calibration;
  const K = s.length;
  if (cal.method === 'matrix' && cal.matrix && cal.bias) {
    const { matrix, bias } = cal;
    return s.map((_, k) => {
      let acc = bias[k] as number;
      for (let j = 0; j < K; j++) acc += (matrix[k * K + j] as number) * (s[j] as number);
      return acc;
    });
  }
  return s.map((v, k) => v * cal.temperature + (cal.bias?.[k] ?? 0));
}
