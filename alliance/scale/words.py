"""Words and a seeded generator for generated data: Chinese names, phones, titles and texts of the domain.
Shared by `manage.py generate_scale` and the benchmarks' own loaders (bench/report_data.py)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta

SEED = 20260930

FAMILY = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强海燕淑珍春梅立新桂芳德明凤英晓东"
COMMUNITIES = ["柳巷", "桥头", "新华", "解放", "府东", "五一", "迎泽", "青年", "南宫", "朝阳", "钟楼", "大南门"]
SECTORS = [
    ("military", "驻区部队分会"),
    ("school", "学校分会"),
    ("enterprise", "企业分会"),
    ("member_unit", "成员单位分会"),
    ("other", "其他分会"),
]
UNIT_TYPES = [
    ("government", "区政务服务中心", "district"),
    ("public_institution", "事业发展中心", "city"),
    ("state_enterprise", "国有公司", "province"),
    ("private_enterprise", "科技有限公司", "street"),
    ("private_enterprise", "商贸有限公司", "street"),
    ("social_organisation", "社会工作服务社", "street"),
    ("military", "驻区部队", "city"),
    ("school", "实验小学", "district"),
    ("hospital", "社区卫生服务中心", "district"),
    ("other", "物业服务中心", "community"),
]
UNIT_TYPE_TO_SECTOR = {
    "military": "military",
    "school": "school",
    "state_enterprise": "enterprise",
    "private_enterprise": "enterprise",
}
NEED_TITLES = [
    "楼道灯坏了需要维修",
    "独居老人希望有人定期探望",
    "小区垃圾分类指导",
    "孩子暑期托管",
    "老旧小区加装扶手",
    "法律咨询：房屋租赁纠纷",
    "义诊：测血压血糖",
    "微心愿：一台收音机",
    "微心愿：儿童绘本",
    "下水道堵塞",
    "社区活动室借用",
    "防诈骗宣讲",
]
NEED_TEXT = (
    "居民反映该问题已有一段时间，影响日常生活，希望社区和共建单位协助解决。"
    "具体情况：地址在小区内，联系人白天在家，可随时上门查看。"
)
RESULTS = ["已上门处理完毕，居民满意。", "已联系专业人员维修，问题已解决。", "已安排志愿者定期服务。"]
REJECT_REASONS = ["不属于本平台受理范围，已转12345热线。", "重复提交。", "信息不全，无法联系。"]
RESOURCE_KINDS = ["venue", "talent", "technology", "service", "funds", "goods"]
RESOURCE_TITLES = ["党员活动室", "法律顾问服务", "义诊服务", "会议室", "图书捐赠", "技能培训", "助学资金", "文艺演出"]
PROJECT_TITLES = ["红色物业", "银龄关爱", "四点半课堂", "法律进社区", "健康义诊", "环境整治", "平安巡逻", "就业帮扶"]
ACTIVITY_TITLES = ["走访慰问", "义诊活动", "法律讲座", "清洁家园", "课后辅导", "文艺汇演", "政策宣讲"]
RESOLUTION_TEXTS = [
    "协调解决小区停车难问题，由牵头单位拿出方案。",
    "组织共建单位开展暑期青少年活动。",
    "推动老旧小区改造中加装电梯的协调工作。",
    "建立独居老人定期探访制度。",
]
SKILLS = ["医疗", "法律", "教育", "文艺", "维修", "心理咨询", "摄影", ""]
LOG_TEXTS = ["社区站岗执勤", "垃圾分类督导", "走访独居老人", "文明交通引导", "核酸检测服务", "图书角整理"]


class Gen:
    """Random rows: a seeded generator plus the helpers every table needs."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self._phones: set[str] = set()
        self._codes: set[str] = set()

    def name(self) -> str:
        r = self.rng
        return r.choice(FAMILY) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))

    def phone(self, unique: bool = False) -> str:
        while True:
            number = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            if not unique or number not in self._phones:
                self._phones.add(number)
                return number

    def tracking_code(self) -> str:
        alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
        while True:
            code = "".join(self.rng.choice(alphabet) for _ in range(13))
            if code not in self._codes:
                self._codes.add(code)
                return code

    def moment(self, start: datetime, end: datetime) -> datetime:
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(span))

    def day(self, start: date, end: date) -> date:
        """A day in [start, end]."""
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def pick(self, weighted: Sequence[tuple[object, float]]) -> object:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights)[0]
