"""What the demo street is made of: names, categories, sources, departments.

Shares follow the figures in domain.md (70 % solved in the grid, ~25 % by the
community, ~5 % by departments; 12345 the largest source).
"""

from __future__ import annotations

from typing import NamedTuple

DISTRICT_CODE = "370602"  # 芝罘区, Yantai: the demo street sits at lon 121.39, lat 37.53
STREET_CODE = "005"
STREET_NAME = "凤鸣街道"
CENTRE = (121.39, 37.53)
SEMI_AXES_M = (1300.0, 900.0)

COMMUNITIES = ["西山社区", "凤鸣社区", "珠玑社区", "海岸社区", "南苑社区"]
N_GRIDS = 60

COMPOUND_PREFIXES = [
    "幸福", "和平", "建新", "东方", "锦绣", "海景", "梧桐", "新华", "春晖", "文化",
    "胜利", "朝阳", "青年", "红旗", "振华", "永安", "育才", "迎春", "丽景", "滨海",
    "松林", "桃源", "金河", "龙泉", "凤凰", "玉兰", "长青", "福山", "康宁", "嘉和",
    "兴隆", "望海", "毓璜", "南山", "芝罘", "通伸", "大马", "西炮", "东岚", "北岭",
]  # fmt: skip
COMPOUND_SUFFIXES = ["里", "小区", "花园", "苑", "新村", "家园"]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN_NAMES = [
    "丽", "敏", "静", "伟", "芳", "娜", "秀英", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "红", "玉兰", "建华", "晓燕", "海燕",
]  # fmt: skip


class Category(NamedTuple):
    name: str
    weight: float
    deadline_hours: int
    levels: tuple[float, float, float]  # grid, community, departments
    department: str
    templates: tuple[str, ...]


CATEGORIES = [
    Category("环境卫生", 18, 48, (0.86, 0.12, 0.02), "区城管局", (
        "{c}{b}号楼垃圾桶满溢未及时清运", "{c}楼道内堆放杂物影响通行", "{c}垃圾未分类入桶，异味较大")),
    Category("消防安全", 8, 24, (0.62, 0.30, 0.08), "区消防救援大队", (
        "{c}{b}号楼楼道内电瓶车充电", "{c}消防通道被车辆堵塞", "{c}{b}号楼飞线充电存在隐患")),
    Category("设施维修", 14, 120, (0.58, 0.34, 0.08), "区住建局", (
        "{c}{b}号楼电梯故障停运", "{c}{b}号楼外墙剥落存在安全隐患", "{c}{b}号楼下水管道堵塞",
        "{c}{b}号楼管道井渗水", "{c}单元门禁损坏")),
    Category("排水积水", 5, 72, (0.40, 0.42, 0.18), "市政排水公司", (
        "{c}门口涵洞积水，车辆无法通行", "{c}雨后路面积水严重", "{c}{b}号楼地下室进水")),
    Category("供暖问题", 6, 48, (0.35, 0.45, 0.20), "热力公司", (
        "{c}{b}号楼暖气不热，室温偏低", "{c}{b}号楼暖气管道漏水", "{c}供暖费缴纳咨询")),
    Category("物业服务", 11, 120, (0.66, 0.31, 0.03), "区住建局", (
        "{c}物业服务不到位，卫生无人打扫", "{c}物业费收支不透明", "{c}无物业管理，楼道灯不亮")),
    Category("停车管理", 9, 72, (0.70, 0.25, 0.05), "区城管局", (
        "{c}停车难，车辆乱停乱放", "{c}周边僵尸车长期占用车位", "{c}门口违规占道停车")),
    Category("噪声扰民", 7, 72, (0.80, 0.18, 0.02), "区城管局", (
        "{c}{b}号楼空调外机噪声扰民", "{c}周边夜间施工噪声", "{c}广场舞音响声音过大")),
    Category("邻里纠纷", 6, 168, (0.74, 0.26, 0.00), "司法所", (
        "{c}{b}号楼邻里因漏水产生纠纷", "{c}楼道公共空间占用引发矛盾", "{c}饲养宠物引发邻里纠纷")),
    Category("老旧小区改造", 3, 720, (0.10, 0.52, 0.38), "区住建局", (
        "{c}老旧小区改造进度咨询", "{c}改造施工后路面未恢复", "{c}加装电梯意见征集")),
    Category("帮扶服务", 6, 72, (0.86, 0.14, 0.00), "区民政局", (
        "{c}独居老人需要上门服务", "{c}困难家庭申请帮扶", "{c}残疾居民出行需要帮助")),
    Category("政策咨询", 5, 24, (0.90, 0.10, 0.00), "区卫健局", (
        "咨询生育登记办理地点", "咨询医保缴费政策", "咨询居住证办理流程")),
    Category("治安防诈", 2, 48, (0.70, 0.20, 0.10), "公安派出所", (
        "{c}发现疑似电信诈骗宣传单", "{c}夜间路灯不亮存在治安隐患", "{c}陌生人上门推销保健品")),
]  # fmt: skip

# Month multipliers (index 0 = January): heating complaints in winter, drainage in the rainy summer.
SEASONAL = {
    "供暖问题": (5, 4, 3, 0.6, 0.1, 0.1, 0.1, 0.1, 0.2, 1.0, 5, 6),
    "排水积水": (0.2, 0.2, 0.3, 0.5, 0.8, 2.5, 4.5, 4.5, 1.5, 0.5, 0.3, 0.2),
    "噪声扰民": (0.6, 0.6, 0.8, 1.0, 1.2, 1.5, 1.7, 1.7, 1.2, 1.0, 0.7, 0.6),
}

SOURCES = {
    "12345热线": 45, "网格巡查": 28, "微信群": 14, "议事会": 5, "微心愿": 4, "书记接待日": 4,
}  # fmt: skip

# Mean hours from report to dispatch by level (grid, community, departments): a case
# escalated to the community or to a department waits longer before it is dispatched.
# Urgent categories go faster: the mean is at most a sixth of the category's deadline.
DISPATCH_MEAN_HOURS = (1.0, 4.0, 10.0)

# Median hours from acceptance to resolution at the grid and at the community. A department's
# resolution time depends on the category's deadline and on the department (below).
RESOLVE_MEDIAN_HOURS = (10.0, 40.0)


class DepartmentProfile(NamedTuple):
    """How a functional department handles the cases escalated to it (handled_level 3)."""

    accept_mean_hours: float  # mean hours from dispatch to acceptance (exponential)
    resolve_factor: float  # multiplies the typical resolution time (1.0: a typical department)
    satisfaction_drop: float  # subtracted from the grid's chance of a satisfied (4-5 star) rating
    rework_p: float  # chance a resolved case is reopened


# A typical department resolves in this share of the category's deadline (median; lognormal spread).
DEPARTMENT_RESOLVE_SHARE = 0.35

# Every department that receives level-3 cases (see CATEGORIES). Most perform well: they
# accept within an hour or so and residents are about as satisfied as with the street's
# own work. Two stand out in the accountability view (部门考核): 区住建局 is slow (accepts
# after ~8 h, resolves twice as slowly, so many cases miss their deadline) and 热力公司
# leaves residents dissatisfied (~80 % satisfied, more rework).
DEPARTMENT_PROFILES = {
    "区城管局": DepartmentProfile(1.0, 1.0, 0.01, 0.03),
    "区消防救援大队": DepartmentProfile(0.5, 0.6, 0.0, 0.02),
    "区住建局": DepartmentProfile(8.0, 2.2, 0.03, 0.05),
    "市政排水公司": DepartmentProfile(1.2, 1.0, 0.02, 0.03),
    "热力公司": DepartmentProfile(1.0, 1.0, 0.2, 0.12),
    "公安派出所": DepartmentProfile(0.6, 0.9, 0.0, 0.02),
}
TYPICAL_DEPARTMENT = DepartmentProfile(1.0, 1.0, 0.0, 0.03)  # for categories never escalated to level 3

RESOURCE_KINDS = {
    # kind: level in the four-level service matrix (None: not a service point of the matrix)
    "service_centre": 1,
    "red_steward_station": 2,
    "micro_grid_post": 3,
    "stairwell_corner": 4,
    "council_venue": None,
    "volunteer_team": None,
}
