/** Small synthetic labelled data for fast, deterministic training tests (not the shared data set). */
import { seededRandom, type TrainExample } from '#core/classify/model.ts';

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
